"""Reading the audit trail (entries are written with `field_ops.core.audit.record_audit`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from field_ops.core.audit import AuditEntry
from field_ops.users.models import User
from field_ops.users.scope import visible_dealership_ids


def list_audit_entries_query(
    actor: User,
    entity_type: str | None = None,
    entity_id: int | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
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
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
