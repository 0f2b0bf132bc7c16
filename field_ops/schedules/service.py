"""The shared daily schedule: one row per visit, the same for everyone who may see the lot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, contains_eager

from field_ops.accounts.models import Account
from field_ops.core.audit import record_audit
from field_ops.core.concurrency import lock_lot_day
from field_ops.core.db import utcnow
from field_ops.core.digest import sha256_hex
from field_ops.core.errors import field_error
from field_ops.dealerships.models import Dealership
from field_ops.dealerships.service import get_dealership
from field_ops.schedules.errors import PublishInProgress
from field_ops.schedules.models import SchedulePublication
from field_ops.users.models import User
from field_ops.users.scope import in_scope
from field_ops.visits.models import Outcome, Visit


@dataclass
class Schedule:
    date: date
    dealership_id: int | None
    dealerships: list[Dealership]
    rows: list[dict[str, Any]]
    publications: dict[int, SchedulePublication | None]


def one_line_address(account: Account) -> str:
    street = ", ".join(part for part in (account.address_line1, account.address_line2) if part)
    return f"{street}, {account.city}, {account.state} {account.postal_code}"


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone) if moment else None


def _fingerprint(rows: list[dict[str, Any]]) -> str:
    return sha256_hex(json.dumps(rows, sort_keys=True, default=str))


def _visible_dealerships(session: Session, actor: User, dealership_id: int | None) -> list[Dealership]:
    if dealership_id is not None:
        return [get_dealership(session, actor, dealership_id)]
    return list(session.scalars(select(Dealership).where(in_scope(actor, Dealership.id)).order_by(Dealership.code)))


def build_schedule(session: Session, actor: User, day: date, dealership_id: int | None = None) -> Schedule:
    """The day's rows for one lot, or for every lot in the actor's scope. Raises NotFound."""
    dealerships = _visible_dealerships(session, actor, dealership_id)
    by_id = {d.id: d for d in dealerships}
    rep, booker = aliased(User), aliased(User)
    result = session.execute(
        select(Visit, Account, rep, booker, Outcome)
        .join(Account, Visit.account_id == Account.id)
        .outerjoin(rep, Visit.assigned_rep_id == rep.id)
        .outerjoin(booker, Visit.booked_by == booker.id)
        .outerjoin(Outcome, Outcome.visit_id == Visit.id)
        .where(Visit.scheduled_date == day, Visit.dealership_id.in_(by_id or {-1}))
        .options(contains_eager(Visit.account))  # the join above, not a second one
    ).all()
    rows = []
    for visit, account, rep_user, booked_by, outcome in result:
        lot = by_id[visit.dealership_id]
        zone = ZoneInfo(lot.timezone)
        rows.append(
            {
                "visit_id": visit.id,
                "date": visit.scheduled_date,
                "dealership_id": lot.id,
                "dealership_code": lot.code,
                "rep_id": rep_user.id if rep_user else None,
                "rep_name": rep_user.name if rep_user else None,
                "stop_number": visit.sequence,
                "window_start": _local(visit.window_start, zone),
                "window_end": _local(visit.window_end, zone),
                "eta": _local(visit.eta, zone),
                "customer_name": account.customer_name,
                "account_number": account.account_number,
                "address": one_line_address(account),
                "phone": account.phone,
                "days_past_due": account.days_past_due,
                "amount_due": account.amount_due,
                "kind": visit.kind,
                "reason": visit.reason,
                "priority": visit.priority,
                "status": visit.status,
                "outcome": outcome.outcome if outcome else None,
                "booked_by": booked_by.name if booked_by else None,
                "notes": visit.notes,
                "amount_collected": outcome.amount_collected if outcome else None,
                "promise_date": outcome.promise_date if outcome else None,
                "promise_amount": outcome.promise_amount if outcome else None,
            }
        )
    rows.sort(
        key=lambda r: (
            r["dealership_code"],
            r["rep_name"] is None,
            (r["rep_name"] or "").lower(),
            r["stop_number"] is None,
            r["stop_number"] or 0,
            r["window_start"],
            r["visit_id"],
        )
    )
    publications = {
        p.dealership_id: p
        for p in session.scalars(
            select(SchedulePublication).where(
                SchedulePublication.date == day, SchedulePublication.dealership_id.in_(by_id or {-1})
            )
        )
    }
    return Schedule(
        date=day, dealership_id=dealership_id, dealerships=dealerships, rows=rows, publications=publications
    )


def changed_since_publish(schedule: Schedule, dealership_id: int) -> bool | None:
    """None when never published; otherwise whether the lot's rows differ from what was published."""
    publication = schedule.publications.get(dealership_id)
    if publication is None or publication.published_at is None:
        return None
    rows = [r for r in schedule.rows if r["dealership_id"] == dealership_id]
    return _fingerprint(rows) != publication.rows_fingerprint


def publish_schedule(session: Session, *, actor: User, day: date, dealership_id: int | None) -> Schedule:
    """Bump the lot-day's version and remember what was published. Raises NotFound, 422."""
    if dealership_id is None:
        raise field_error("dealership_id", "Publish one dealership's schedule at a time.")
    schedule = build_schedule(session, actor, day, dealership_id)
    busy = PublishInProgress("Someone else is publishing this schedule; try again.")
    publication = lock_lot_day(session, SchedulePublication, dealership_id, day, busy, version=0)
    previous = publication.version
    publication.version = previous + 1
    publication.published_at = utcnow()
    publication.published_by = actor.id
    publication.rows_fingerprint = _fingerprint(schedule.rows)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="schedule.published",
        entity_type="schedule",
        entity_id=publication.id,
        dealership_id=dealership_id,
        changes={
            "date": [None, day.isoformat()],
            "version": [previous, publication.version],
            "rows": [None, len(schedule.rows)],
        },
    )
    schedule.publications[dealership_id] = publication
    return schedule
