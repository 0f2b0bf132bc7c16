"""The append-only audit trail: written in the caller's transaction, never updated."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from field_ops.audit.models import AuditEntry
from field_ops.core.db import utcnow
from field_ops.core.scope import visible_dealership_ids
from field_ops.users.models import User


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
    actor: User | None,
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


def record_audit_entries(session: Session, *, actor: User | None, entries: list[dict[str, Any]]) -> None:
    """Append many entries (`{action, entity_type, entity_id, dealership_id, changes}`) in one bulk
    INSERT, in the caller's transaction: what a bulk import writes."""
    if not entries:
        return
    at = utcnow()
    session.execute(
        insert(AuditEntry),
        [
            {
                "actor_id": actor.id if actor else None,
                "at": at,
                "action": entry["action"],
                "entity_type": entry["entity_type"],
                "entity_id": entry["entity_id"],
                "dealership_id": entry.get("dealership_id"),
                "changes": _plain(entry.get("changes") or {}),
            }
            for entry in entries
        ],
    )


def list_audit_entries_query(
    actor: User, entity_type: str | None = None, entity_id: int | None = None, since: datetime | None = None
) -> Select:
    """The trail the actor may read (a manager: entries of their dealerships), newest first."""
    stmt = select(AuditEntry)
    ids = visible_dealership_ids(actor)
    if ids is not None:
        stmt = stmt.where(AuditEntry.dealership_id.in_(ids or {-1}))
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
