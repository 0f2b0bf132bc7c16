"""Offline sync: what changed in the caller's scope since their cursor, page by page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from field_ops.sync.errors import InvalidCursor
from field_ops.sync.models import ChangeLogEntry
from field_ops.sync.registry import synced_type, synced_types
from field_ops.users.models import Role, User
from field_ops.users.scope import visible_dealership_ids

RESPONSE_KEYS = ("visits", "routes", "lot_issues", "follow_ups", "accounts")
CURSOR_SALT = "field-ops.sync-cursor"


@dataclass
class SyncPage:
    cursor: str
    has_more: bool
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    removed: list[dict[str, Any]] = field(default_factory=list)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CURSOR_SALT)


def encode_cursor(user: User, seq: int) -> str:
    """An opaque cursor: the log position, bound to the user and signed, so it cannot be forged
    or passed to someone else."""
    return _serializer().dumps({"u": user.id, "s": seq})


def decode_cursor(user: User, cursor: str | None) -> int:
    """The log position of a cursor. Raises InvalidCursor (422) when malformed, tampered with or
    issued to another user."""
    if not cursor:
        return 0
    try:
        data = _serializer().loads(cursor)
    except BadSignature as exc:
        raise InvalidCursor("The cursor is malformed or was altered: sync again without one.") from exc
    if not isinstance(data, dict) or data.get("u") != user.id:
        raise InvalidCursor("This cursor was issued to someone else: sync again without one.")
    seq = data.get("s")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InvalidCursor("The cursor is malformed: sync again without one.")
    return seq


def _rows_for(user: User, log: Any = ChangeLogEntry) -> ColumnElement[bool]:
    """The log rows that may concern the user: changes in their lots (or that left them), for a rep
    only their own visits and routes and the accounts of their visits, and rows addressed to them."""
    ChangeLogEntry = log  # noqa: N806 - the table, or an alias of it
    lots = visible_dealership_ids(user)
    me = user.id
    broadcast = []
    for synced in synced_types():
        if not synced.receives(user):
            continue
        condition = ChangeLogEntry.entity_type == synced.entity_type
        if lots is not None:
            wanted = lots or {-1}
            condition = and_(
                condition,
                or_(ChangeLogEntry.dealership_id.in_(wanted), ChangeLogEntry.previous_dealership_id.in_(wanted)),
            )
        if user.role == Role.REP:
            mine = or_(ChangeLogEntry.rep_id == me, ChangeLogEntry.previous_rep_id == me)
            if synced.rep_column:
                condition = and_(condition, mine)
            elif synced.rep_visible is not None:
                visible_ids = select(synced.model.id).where(synced.rep_visible(user))
                condition = and_(condition, or_(mine, ChangeLogEntry.entity_id.in_(visible_ids)))
        broadcast.append(condition)
    return or_(ChangeLogEntry.user_id == me, and_(ChangeLogEntry.user_id.is_(None), or_(*broadcast)))


def sync_changes(session: Session, user: User, *, since: str | None, limit: int) -> SyncPage:
    """Up to `limit` changed entities after the cursor, each in its current state, and `removed` for
    those no longer in the user's scope. Raises InvalidCursor."""
    position = decode_cursor(user, since)
    # Every row up to the newest visible seq is committed (seqs are allocated in commit order, see
    # capture.py), so a page may end there: a reader with nothing new skips the others' rows for good.
    horizon = session.scalar(select(func.max(ChangeLogEntry.seq))) or 0
    # An entity changed again later (in rows that concern this user) is sent once, at its last change.
    later = aliased(ChangeLogEntry)
    superseded = (
        select(later.seq)
        .where(
            later.entity_type == ChangeLogEntry.entity_type,
            later.entity_id == ChangeLogEntry.entity_id,
            later.seq > ChangeLogEntry.seq,
            later.seq > position,
            later.seq <= horizon,
            _rows_for(user, later),
        )
        .exists()
    )
    rows = session.execute(
        select(ChangeLogEntry.seq, ChangeLogEntry.entity_type, ChangeLogEntry.entity_id)
        .where(ChangeLogEntry.seq > position, ChangeLogEntry.seq <= horizon, _rows_for(user), ~superseded)
        .order_by(ChangeLogEntry.seq)
        .limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    position = rows[-1].seq if has_more else max(position, horizon)
    wanted: dict[str, dict[int, None]] = {}
    for row in rows:
        wanted.setdefault(row.entity_type, {})[row.entity_id] = None
    page = SyncPage(cursor=encode_cursor(user, position), has_more=has_more, items={key: [] for key in RESPONSE_KEYS})
    for entity_type, ids in wanted.items():
        synced = synced_type(entity_type)
        if synced is None:
            continue
        stmt = select(synced.model).where(synced.model.id.in_(list(ids)), synced.visible(user))
        if synced.load_options is not None:
            stmt = stmt.options(*synced.load_options())
        found = list(session.scalars(stmt.order_by(synced.model.id)).unique())
        page.items.setdefault(synced.key, []).extend(synced.schema_for(user).dump(found))
        seen = {entity.id for entity in found}
        page.removed += [{"entity_type": entity_type, "id": entity_id} for entity_id in ids if entity_id not in seen]
    return page
