"""The append-only audit trail: written in the caller's transaction, never updated.

Every domain records here, so it sits in core; the trail's read API is `field_ops.audit`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, Index, String, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from field_ops.core.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """Append-only: rows are inserted in the same transaction as the change and never updated."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column()
    dealership_id: Mapped[int | None] = mapped_column(ForeignKey("dealerships.id"), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Actor(Protocol):
    """Who did it: a user (by id), or None for the system itself."""

    id: int


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for each field whose value differs."""
    return {
        key: [_plain(before.get(key)), _plain(value)]
        for key, value in after.items()
        if _plain(before.get(key)) != _plain(value)
    }


def record_audit(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    entity_type: str,
    entity_id: int,
    changes: dict[str, Any] | None = None,
    dealership_id: int | None = None,
) -> AuditEntry:
    """Append one entry to the trail, in the caller's transaction."""
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        dealership_id=dealership_id,
        changes=_plain(changes or {}),
    )
    session.add(entry)
    return entry


def record_audits(session: Session, *, actor: Actor | None, entries: list[dict[str, Any]]) -> None:
    """Append many entries at once (`action`, `entity_type`, `entity_id`, `dealership_id`,
    `changes` each): one multi-row insert for batch work such as the end-of-day job."""
    if not entries:
        return
    at = utcnow()
    rows = [
        {**entry, "changes": _plain(entry.get("changes") or {}), "actor_id": actor.id if actor else None, "at": at}
        for entry in entries
    ]
    session.execute(insert(AuditEntry.__table__), rows)


class AuditedUpdate:
    """Snapshot -> change -> flush -> the changed fields -> one audit entry:

    audit = AuditedUpdate(account, _snapshot)
    ...change the account...
    audit.record(session, actor=actor, action="account.updated", entity_type="account")
    """

    def __init__(self, entity: Any, snapshot: Callable[[Any], dict[str, Any]]) -> None:
        self.entity, self.snapshot, self.before = entity, snapshot, snapshot(entity)

    def record(
        self,
        session: Session,
        *,
        actor: Actor | None,
        action: str | Callable[[dict[str, list[Any]]], str],
        entity_type: str,
        lot_of: Callable[[Any], int | None] = attrgetter("dealership_id"),
        also: dict[str, list[Any]] | None = None,
    ) -> dict[str, list[Any]]:
        """Flush, and record `action` (a name, or a function of the changes) with the fields
        that changed and `also` (what no snapshot shows, such as a new password); nothing when
        nothing changed. `lot_of` reads the entry's dealership after the change."""
        session.flush()
        changes = {**field_changes(self.before, self.snapshot(self.entity)), **(also or {})}
        if changes:
            record_audit(
                session,
                actor=actor,
                action=action(changes) if callable(action) else action,
                entity_type=entity_type,
                entity_id=self.entity.id,
                dealership_id=lot_of(self.entity),
                changes=changes,
            )
        return changes


def record_created(
    session: Session,
    entity: Any,
    *,
    actor: Actor | None,
    action: str,
    entity_type: str,
    values: dict[str, Any],
    lot_of: Callable[[Any], int | None] = attrgetter("dealership_id"),
) -> AuditEntry:
    """Flush a new `entity` (for its id) and record its creation with its `values`."""
    session.flush()
    return record_audit(
        session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity.id,
        dealership_id=lot_of(entity),
        changes=field_changes({}, values),
    )
