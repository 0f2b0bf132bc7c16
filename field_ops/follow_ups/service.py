"""The specialists' work queue: raised by outcomes and by the end-of-day job, closed by hand or
by booking a visit for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from field_ops.core.audit import record_audit, record_audits
from field_ops.core.db import rows_inserted, utcnow
from field_ops.core.errors import InvalidTransition, NotFound, field_error
from field_ops.follow_ups.errors import FollowUpClosed
from field_ops.follow_ups.models import FollowUp, FollowUpKind, FollowUpStatus
from field_ops.users.models import User
from field_ops.users.scope import ensure_visible, get_scoped, scoped


@dataclass(frozen=True)
class Cause:
    """What raises a follow-up; `key` is unique across the queue."""

    key: str
    kind: str
    dealership_id: int
    account_id: int
    due_date: date
    visit_id: int | None = None
    note: str | None = None


def visit_cause(kind: str, visit_id: int, dealership_id: int, account_id: int, due_date: date) -> Cause:
    return Cause(f"visit:{visit_id}:{kind}", kind, dealership_id, account_id, due_date, visit_id)


def promise_cause(promise_id: int, dealership_id: int, account_id: int, visit_id: int | None, due_date: date) -> Cause:
    return Cause(f"promise:{promise_id}", FollowUpKind.BROKEN_PROMISE, dealership_id, account_id, due_date, visit_id)


def raise_follow_ups(session: Session, *, actor: User | None, causes: list[Cause]) -> list[int]:
    """Insert one follow-up per cause not seen before and return the new ids.

    INSERT ... ON CONFLICT (cause) DO NOTHING: a cause already on the queue, or raised by a
    concurrent transaction at the same moment, is skipped by the database without an error."""
    if not causes:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    rows = [
        {
            "kind": c.kind,
            "status": FollowUpStatus.OPEN.value,
            "cause": c.key,
            "dealership_id": c.dealership_id,
            "account_id": c.account_id,
            "visit_id": c.visit_id,
            "due_date": c.due_date,
            "note": c.note,
            "created_at": now,
            "updated_at": now,
        }
        for c in causes
    ]
    by_key = {c.key: c for c in causes}
    created: list[int] = []
    audits = []
    # An executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs ("insertmanyvalues")
    # and caches the compiled statement; conflicting rows simply return nothing.
    table = FollowUp.__table__
    stmt = insert(table).on_conflict_do_nothing(index_elements=["cause"]).returning(table.c.id, table.c.cause)
    for start in range(0, len(rows), 1000):
        for follow_up_id, key in session.execute(stmt, rows[start : start + 1000]).all():
            cause = by_key[key]
            created.append(follow_up_id)
            audits.append(
                {
                    "action": "follow_up.raised",
                    "entity_type": "follow_up",
                    "entity_id": follow_up_id,
                    "dealership_id": cause.dealership_id,
                    "changes": {
                        "kind": [None, cause.kind],
                        "account_id": [None, cause.account_id],
                        "visit_id": [None, cause.visit_id],
                        "due_date": [None, cause.due_date],
                    },
                }
            )
    record_audits(session, actor=actor, entries=audits)
    rows_inserted.send(session, entity_type="follow_up", ids=created)
    return created


def get_follow_up(session: Session, actor: User, follow_up_id: int) -> FollowUp:
    """Raises NotFound, also for another lot's follow-up."""
    return get_scoped(session, FollowUp, follow_up_id, actor, "Follow-up")


def list_follow_ups_query(actor: User, **filters: Any) -> Select:
    stmt = scoped(select(FollowUp), actor, FollowUp.dealership_id)
    for name in ("dealership_id", "kind", "status", "account_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(FollowUp, name) == filters[name])
    return stmt.order_by(FollowUp.due_date, FollowUp.id)


def _close(session: Session, actor: User, follow_up: FollowUp, status: str, note: str | None, action: str) -> None:
    before = {"status": follow_up.status, "note": follow_up.note}
    follow_up.status = status
    if note is not None:
        follow_up.note = note
    follow_up.resolved_by = actor.id
    follow_up.resolved_at = utcnow()
    session.flush()
    record_audit(
        session,
        actor=actor,
        action=action,
        entity_type="follow_up",
        entity_id=follow_up.id,
        dealership_id=follow_up.dealership_id,
        changes={"status": [before["status"], status], "note": [before["note"], follow_up.note]},
    )


def resolve_follow_up(
    session: Session, *, actor: User, follow_up: FollowUp, status: str, note: str | None = None
) -> FollowUp:
    """Mark an open follow-up `done` or `dismissed`. Raises InvalidTransition (409) once closed."""
    if follow_up.status != FollowUpStatus.OPEN:
        raise InvalidTransition(f"A {follow_up.status} follow-up cannot become {status}.")
    _close(session, actor, follow_up, status, note, f"follow_up.{status}")
    return follow_up


def close_for_booking(session: Session, *, actor: User, follow_up_id: int, account_id: int, visit_id: int) -> FollowUp:
    """Close a follow-up as `done` because a visit was booked for it, in the booking's transaction.
    Raises a 422 on `follow_up_id` for an unknown one or one of another account, FollowUpClosed (409)."""
    follow_up = session.scalar(select(FollowUp).where(FollowUp.id == follow_up_id).with_for_update())
    if follow_up is None or not _visible(actor, follow_up):
        raise field_error("follow_up_id", f"Unknown follow-up {follow_up_id}.")
    if follow_up.account_id != account_id:
        raise field_error("follow_up_id", f"Follow-up {follow_up_id} is about another account.")
    if follow_up.status != FollowUpStatus.OPEN:
        raise FollowUpClosed(f"Follow-up {follow_up_id} is already {follow_up.status}.")
    _close(session, actor, follow_up, FollowUpStatus.DONE, f"Visit {visit_id} booked.", "follow_up.done")
    return follow_up


def _visible(actor: User, follow_up: FollowUp) -> bool:
    try:
        ensure_visible(actor, follow_up.dealership_id)
    except NotFound:
        return False
    return True
