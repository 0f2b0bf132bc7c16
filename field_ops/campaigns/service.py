"""Campaigns: personal visits for a segment of a lot's accounts, booked through the same rules as
`POST /visits` and the schedule import (visits.service.check_booking against the accounts'
attempted visits, read once; then one bulk `record_bookings`), spread over the days so that no
lot-day holds more than the campaign's daily cap."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, case, func, insert, or_, select
from sqlalchemy.orm import Session

from field_ops.accounts.models import RESTRICTIONS, Account
from field_ops.accounts.service import AGING_BUCKET_RANGES
from field_ops.campaigns.errors import CampaignFailed, CampaignStartsInPast, EmptySegment
from field_ops.campaigns.models import Campaign, CampaignResult
from field_ops.core.audit import record_audit
from field_ops.core.db import Money
from field_ops.core.errors import ProblemError, field_error
from field_ops.dealerships.models import Dealership
from field_ops.dealerships.service import lot_date
from field_ops.users.models import User
from field_ops.users.scope import ensure_visible, get_scoped, scoped
from field_ops.visits import rules
from field_ops.visits.models import Outcome, OutcomeCode, Visit, VisitKind, VisitStatus
from field_ops.visits.service import check_booking, record_bookings

MAX_DAYS = 31
# Refusals that depend on the day: the account may still be booked on another day of the campaign.
DAY_DEPENDENT_CODES = {"visit_frequency_limit", "invalid_window"}
DAILY_CAP_REACHED = "daily_cap_reached"


def _clock(field: str, value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise field_error(field, "Must be a time of day, HH:MM.") from exc


def _check_dates(dealership: Dealership, date_from: date, date_to: date) -> None:
    today = dealership.local_date()
    if date_from < today:
        raise CampaignStartsInPast.at("from", f"Is in the past (today is {today.isoformat()} at the lot).")
    if date_to < date_from:
        raise field_error("to", "Must be on or after `from`.")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise field_error("to", f"A campaign lasts at most {MAX_DAYS} days.")


def segment_query(dealership_id: int, segment: dict[str, Any]) -> Select:
    """The lot's accounts in the segment, most overdue first: past due in one of the buckets, owing at
    least `min_amount_due`, at least `min_days_past_due` late, unrestricted unless asked otherwise."""
    buckets = [
        Account.days_past_due.between(low, high if high is not None else 10**9)
        for low, high in (AGING_BUCKET_RANGES[name] for name in segment["buckets"])
    ]
    stmt = select(Account).where(Account.dealership_id == dealership_id, or_(*buckets))
    if segment.get("min_amount_due") is not None:
        stmt = stmt.where(Account.amount_due >= segment["min_amount_due"])
    if segment.get("min_days_past_due") is not None:
        stmt = stmt.where(Account.days_past_due >= segment["min_days_past_due"])
    if segment.get("exclude_restricted", True):
        stmt = stmt.where(*(getattr(Account, name).is_(False) for name in RESTRICTIONS))
    return stmt.order_by(Account.days_past_due.desc(), Account.amount_due.desc(), Account.id)


def _day_loads(session: Session, dealership_id: int, days: list[date]) -> Counter:
    """Visits already on each lot-day (any status but cancelled): they count against the cap."""
    rows = session.execute(
        select(Visit.scheduled_date, func.count())
        .where(
            Visit.dealership_id == dealership_id,
            Visit.status != VisitStatus.CANCELLED,
            Visit.scheduled_date.between(days[0], days[-1]),
        )
        .group_by(Visit.scheduled_date)
    )
    return Counter(dict(rows.all()))


def _result(account: Account, status: str, **fields: Any) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "status": status,
        "visit_id": None,
        "date": None,
        "code": None,
        "detail": None,
        **fields,
    }


ATTEMPTS_CHUNK = 1000


def _attempted_starts(session: Session, accounts: list[Account], low: datetime, high: datetime) -> dict[int, list]:
    """The accounts' attempted (not cancelled) visit starts between `low` and `high`, by account:
    what the visit-frequency rule counts, read once for the whole campaign."""
    starts: dict[int, list[datetime]] = {account.id: [] for account in accounts}
    ids = sorted(starts)
    for i in range(0, len(ids), ATTEMPTS_CHUNK):
        rows = session.execute(
            select(Visit.account_id, Visit.window_start).where(
                Visit.account_id.in_(ids[i : i + ATTEMPTS_CHUNK]),
                Visit.status != VisitStatus.CANCELLED,
                Visit.window_start > low,
                Visit.window_start < high,
            )
        )
        for account_id, start in rows:
            starts[account_id].append(start)
    return starts


def _lock_accounts(session: Session, accounts: list[Account]) -> None:
    """Lock the accounts in id order, as one booking does, before their visits are read: a booking
    made meanwhile cannot pass the frequency rule alongside the campaign's."""
    ids = sorted(account.id for account in accounts)
    for i in range(0, len(ids), ATTEMPTS_CHUNK):
        session.execute(
            select(Account.id).where(Account.id.in_(ids[i : i + ATTEMPTS_CHUNK])).order_by(Account.id).with_for_update()
        ).all()


def _book_account(
    session: Session,
    account: Account,
    days: list[date],
    loads: Counter,
    cap: int,
    window: tuple[time, time],
    zone: ZoneInfo,
    starts: list[datetime],
) -> tuple[dict[str, Any], tuple[datetime, datetime] | None]:
    """Pick the account's day: the least loaded day with room that passes the booking rules
    (`check_booking`, the checks of `POST /visits`, against the preloaded `starts`), trying other
    days only when the refusal depends on the day. Returns the result and the window to book."""
    open_days = sorted((day for day in days if loads[day] < cap), key=lambda day: (loads[day], day))
    if not open_days:
        return _result(
            account, "skipped", code=DAILY_CAP_REACHED, detail=f"Every day of the campaign already holds {cap} visits."
        ), None
    refusal: ProblemError | None = None
    for day in open_days:
        window_start = datetime.combine(day, window[0], tzinfo=zone)
        window_end = datetime.combine(day, window[1], tzinfo=zone)
        try:
            check_booking(
                session, account=account, window_start=window_start, window_end=window_end, existing_starts=starts
            )
        except ProblemError as error:
            refusal = error
            if error.code in DAY_DEPENDENT_CODES:
                continue
            break
        loads[day] += 1
        starts.append(window_start)
        return _result(account, "booked", date=day), (window_start, window_end)
    assert refusal is not None
    return _result(account, "skipped", code=refusal.code, detail=refusal.detail), None


def create_campaign(
    session: Session,
    *,
    actor: User,
    dealership_id: int,
    name: str,
    segment: dict[str, Any],
    date_from: date,
    date_to: date,
    window_start: str,
    window_end: str,
    max_visits_per_day: int,
    priority: str = "normal",
    dry_run: bool = False,
    partial: bool = False,
) -> dict[str, Any]:
    """Book a PV for each account of the segment. Nothing is written on a dry run, or when an account
    is skipped unless `partial`. Raises 422s for an unknown lot, the dates (in the past,
    over 31 days), the window, EmptySegment, and CampaignFailed (with the results) when accounts are
    skipped without `partial`."""
    dealership = session.get(Dealership, dealership_id)
    if dealership is None:
        raise field_error("dealership_id", f"Unknown dealership {dealership_id}.")
    ensure_visible(actor, dealership.id, "Dealership")
    _check_dates(dealership, date_from, date_to)
    window = (_clock("window_start", window_start), _clock("window_end", window_end))
    if window[1] <= window[0]:
        raise field_error("window_end", "Must be after window_start.")
    accounts = list(session.scalars(segment_query(dealership.id, segment)))
    if not accounts:
        raise EmptySegment("No account of the lot matches the segment: nothing to book.")
    zone = ZoneInfo(dealership.timezone)
    days = [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    if not dry_run:
        _lock_accounts(session, accounts)
    loads = _day_loads(session, dealership.id, days)
    span = timedelta(days=max(rules.contact_policy(a.state, current_app.config).window_days for a in accounts))
    first_start = datetime.combine(days[0], window[0], tzinfo=zone)
    last_start = datetime.combine(days[-1], window[0], tzinfo=zone)
    starts = _attempted_starts(session, accounts, first_start - span, last_start + span)
    reason = f"Campaign: {name}"[:500]

    results, bookings = [], []
    for account in accounts:
        result, booked = _book_account(
            session, account, days, loads, max_visits_per_day, window, zone, starts[account.id]
        )
        results.append(result)
        if booked is not None:
            bookings.append((result, account, *booked))
    skipped = sum(1 for result in results if result["status"] == "skipped")
    if not dry_run and (partial or not skipped):
        visit_ids = record_bookings(
            session,
            actor=actor,
            bookings=[
                {
                    "account_id": account.id,
                    "dealership_id": account.dealership_id,
                    "kind": VisitKind.PERSONAL_VISIT,
                    "scheduled_date": result["date"],
                    "window_start": window_start,
                    "window_end": window_end,
                    "duration_minutes": 15,
                    "reason": reason,
                    "priority": priority,
                    "notes": None,
                    "assigned_rep_id": None,
                }
                for result, account, window_start, window_end in bookings
            ],
        )
        for (result, *_), visit_id in zip(bookings, visit_ids, strict=True):
            result["visit_id"] = visit_id
    if skipped and not partial and not dry_run:
        raise CampaignFailed(
            f"{skipped} of {len(results)} accounts cannot be booked; nothing was written. "
            "Book with partial=true to keep the others.",
            results=[_plain_result(r) for r in results],
        )
    fields = {
        "dealership_id": dealership.id,
        "name": name,
        "segment": _plain_segment(segment),
        "date_from": date_from,
        "date_to": date_to,
        "window_start": window[0].strftime("%H:%M"),
        "window_end": window[1].strftime("%H:%M"),
        "max_visits_per_day": max_visits_per_day,
        "priority": priority,
        "partial": partial,
    }
    if dry_run:
        return {"id": None, **fields, "status": "dry_run", "results": results, "progress": _progress_of(results)}
    campaign = Campaign(**fields, created_by=actor.id)
    session.add(campaign)
    session.flush()
    session.execute(insert(CampaignResult), [{"campaign_id": campaign.id, **result} for result in results])
    record_audit(
        session,
        actor=actor,
        action="campaign.created",
        entity_type="campaign",
        entity_id=campaign.id,
        dealership_id=dealership.id,
        changes={
            **{key: [None, value] for key, value in fields.items()},
            "booked": [None, len(results) - skipped],
            "skipped": [None, skipped],
        },
    )
    session.flush()
    return describe_campaign(session, campaign)


def _plain_segment(segment: dict[str, Any]) -> dict[str, Any]:
    plain = dict(segment)
    if plain.get("min_amount_due") is not None:
        plain["min_amount_due"] = f"{Decimal(plain['min_amount_due']):.2f}"
    return plain


def _plain_result(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_id": result["account_id"],
        "status": result["status"],
        "visit_id": result["visit_id"],
        "date": result["date"].isoformat() if result["date"] else None,
        "code": result["code"],
        "detail": result["detail"],
    }


def _progress_of(results: list[dict[str, Any]]) -> dict[str, Any]:
    booked = sum(1 for result in results if result["status"] == "booked")
    return {
        "booked": booked,
        "completed": 0,
        "missed": 0,
        "cancelled": 0,
        "collected_amount": Decimal("0.00"),
        "promises_made": 0,
    }


def progress(session: Session, campaign_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per campaign: booked (visits it booked), completed / missed / cancelled (those visits now in
    that status), collected_amount (`amount_collected` of their outcomes) and promises_made
    (their `promise_to_pay` outcomes); one GROUP BY over the campaigns' visits."""
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(
            CampaignResult.campaign_id,
            func.count(Visit.id),
            *(func.sum(case((Visit.status == status, 1), else_=0)) for status in ("completed", "missed", "cancelled")),
            func.sum(Outcome.amount_collected, type_=Money()),
            func.sum(case((Outcome.outcome == OutcomeCode.PROMISE_TO_PAY, 1), else_=0)),
        )
        .join(Visit, Visit.id == CampaignResult.visit_id)
        .outerjoin(Outcome, Outcome.visit_id == Visit.id)
        .where(CampaignResult.campaign_id.in_(campaign_ids))
        .group_by(CampaignResult.campaign_id)
    )
    figures = {}
    for campaign_id, booked, completed, missed, cancelled, collected, promised in rows:
        figures[campaign_id] = {
            "booked": booked,
            "completed": int(completed or 0),
            "missed": int(missed or 0),
            "cancelled": int(cancelled or 0),
            "collected_amount": Decimal(collected or 0).quantize(Decimal("0.01")),
            "promises_made": int(promised or 0),
        }
    return figures


def _status(session: Session, campaign: Campaign) -> str:
    today = lot_date(session, campaign.dealership_id)
    if today < campaign.date_from:
        return "scheduled"
    return "in_progress" if today <= campaign.date_to else "finished"


def _describe(session: Session, campaign: Campaign, figures: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "dealership_id": campaign.dealership_id,
        "name": campaign.name,
        "segment": campaign.segment,
        "date_from": campaign.date_from,
        "date_to": campaign.date_to,
        "window_start": campaign.window_start,
        "window_end": campaign.window_end,
        "max_visits_per_day": campaign.max_visits_per_day,
        "priority": campaign.priority,
        "partial": campaign.partial,
        "status": _status(session, campaign),
        "created_by": campaign.created_by,
        "created_at": campaign.created_at,
        "progress": figures or _progress_of([]),
    }


def describe_campaign(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The campaign with its results and progress."""
    results = session.scalars(
        select(CampaignResult).where(CampaignResult.campaign_id == campaign.id).order_by(CampaignResult.id)
    )
    return {
        **_describe(session, campaign, progress(session, [campaign.id]).get(campaign.id)),
        "results": list(results),
    }


def get_campaign(session: Session, actor: User, campaign_id: int) -> dict[str, Any]:
    """Raises NotFound, also for a campaign of a lot out of scope."""
    campaign = get_scoped(session, Campaign, campaign_id, actor, "Campaign")
    return describe_campaign(session, campaign)


def list_campaigns_query(actor: User, dealership_id: int | None = None) -> Select:
    stmt = scoped(select(Campaign), actor, Campaign.dealership_id)
    if dealership_id is not None:
        stmt = stmt.where(Campaign.dealership_id == dealership_id)
    return stmt.order_by(Campaign.date_from.desc(), Campaign.id.desc())


def describe_campaigns(session: Session, campaigns: list[Campaign]) -> list[dict[str, Any]]:
    """A page of campaigns with their progress (without the per-account results)."""
    figures = progress(session, [campaign.id for campaign in campaigns])
    return [_describe(session, campaign, figures.get(campaign.id)) for campaign in campaigns]
