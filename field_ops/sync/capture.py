"""Change capture: every write to a synced entity lands in `change_log`, in its own transaction.

Session events see every ORM write path (services, jobs, the CLI, fixtures): `after_flush`
notes which synced entities changed and who owned them before; bulk UPDATE/DELETE statements
are noted by reading the rows they are about to touch; `before_commit` writes the log rows.

Why the log rows are written at commit, under a lock: a sequence hands out numbers when asked,
not when the transaction commits. If transaction A took seq 10 and B took seq 11 and B
committed first, a reader could see 11, move its cursor past it, and never see 10. So on
PostgreSQL each writing transaction takes one transaction-level advisory lock just before it
commits, then allocates its seqs and commits, which releases the lock. Seqs are therefore
allocated in commit order: when a reader sees seq N, every transaction that allocated a seq
below N has already committed (or rolled back), so nothing below a cursor can appear later.
Writers queue only for the short insert-and-commit at the end, not for their whole work.
SQLite needs no lock: BEGIN IMMEDIATE already lets one writer in at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import event, insert, inspect, literal, null, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from field_ops.core.db import UTCDateTime, rows_inserted, utcnow
from field_ops.sync.models import ChangeLogEntry
from field_ops.sync.registry import SyncedType, Viewer, synced_type, synced_type_of, synced_types
from field_ops.users.models import Role, User

PENDING = "sync_pending"
# pg_advisory_xact_lock key that serialises change-log writers ("FOSY").
CHANGE_LOG_LOCK = 0x464F5359
CHUNK = 500

Owner = tuple[int | None, int | None]  # (dealership_id, rep_id)


@dataclass
class _Pending:
    changed: dict[tuple[str, int], Owner]  # (entity_type, id) -> owner before the transaction
    related: set[tuple[str, int, Owner, Owner]]  # (entity_type, id, owner before, owner after)
    scope: list[tuple[Viewer, Viewer]]  # a user's view before and after


def _pending(session: Session) -> _Pending:
    if PENDING not in session.info:
        session.info[PENDING] = _Pending({}, set(), [])
    return session.info[PENDING]


def _previous(obj: Any, attribute: str | None) -> Any:
    if attribute is None:
        return None
    history = inspect(obj).attrs[attribute].history
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, attribute)


def _note_entity(pending: _Pending, synced: SyncedType, obj: Any, is_new: bool, is_deleted: bool) -> None:
    current = synced.owner_of(obj)
    before: Owner = (
        (None, None) if is_new else (_previous(obj, synced.dealership_column), _previous(obj, synced.rep_column))
    )
    key = (synced.entity_type, obj.id)
    pending.changed.setdefault(key, before)
    after: Owner = (None, None) if is_deleted else current
    if synced.related is not None and before != after:
        for entity_type, entity_id in synced.related(obj):
            pending.related.add((entity_type, entity_id, before, after))


def _note_scope(pending: _Pending, user: User) -> None:
    state = inspect(user)
    lots, role = state.attrs.dealerships.history, state.attrs.role.history
    if not (lots.added or lots.deleted or role.deleted):
        return
    now_ids = {d.id for d in user.dealerships}
    old_ids = (now_ids - {d.id for d in lots.added}) | {d.id for d in lots.deleted}
    old_role = role.deleted[0] if role.deleted else user.role
    pending.scope.append(
        (Viewer(user.id, old_role, frozenset(old_ids)), Viewer(user.id, user.role, frozenset(now_ids)))
    )


def _after_flush(session: Session, _context: Any) -> None:
    pending = _pending(session)
    for obj in chain(session.new, session.dirty, session.deleted):
        synced = synced_type_of(obj)
        if synced is None:
            if isinstance(obj, User) and obj not in session.new:
                _note_scope(pending, obj)
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        _note_entity(pending, synced, obj, obj in session.new, obj in session.deleted)


def _before_bulk(state: ORMExecuteState) -> None:
    """A bulk UPDATE or DELETE of a synced model: note the rows it is about to touch."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    synced = synced_type_of(state.bind_mapper.class_)
    if synced is None:
        return
    model = synced.model
    rep = synced.column(synced.rep_column) if synced.rep_column else null()
    stmt = select(model.id, synced.column(synced.dealership_column), rep)
    if state.statement.whereclause is not None:
        stmt = stmt.where(state.statement.whereclause)
    pending = _pending(state.session)
    for entity_id, dealership_id, rep_id in state.session.execute(stmt):
        pending.changed.setdefault((synced.entity_type, entity_id), (dealership_id, rep_id))


def _note_inserted(session: Session, entity_type: str, ids: list[int]) -> None:
    """Rows of a synced type written by a bulk INSERT, which the ORM's flush events do not see."""
    pending = _pending(session)
    synced = synced_type(entity_type)
    for entity_id in ids:
        pending.changed.setdefault((entity_type, entity_id), (None, None))
    if synced is None or synced.related is None:
        return
    for start in range(0, len(ids), CHUNK):
        # Plain rows carry every column by name, which is all `related` and `owner_of` read.
        rows = session.execute(
            select(*synced.model.__table__.columns).where(synced.model.id.in_(ids[start : start + CHUNK]))
        )
        for row in rows:
            for related_type, related_id in synced.related(row):
                pending.related.add((related_type, related_id, (None, None), synced.owner_of(row)))


def _current_owners(session: Session, synced: SyncedType, ids: list[int]) -> dict[int, Owner]:
    rep = synced.column(synced.rep_column) if synced.rep_column else null()
    owners: dict[int, Owner] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        stmt = select(synced.model.id, synced.column(synced.dealership_column), rep).where(synced.model.id.in_(chunk))
        owners.update({row[0]: (row[1], row[2]) for row in session.execute(stmt)})
    return owners


def _row(entity_type: str, entity_id: int, before: Owner, after: Owner, now) -> dict[str, Any]:
    return {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "dealership_id": after[0],
        "previous_dealership_id": before[0],
        "rep_id": after[1],
        "previous_rep_id": before[1],
        "user_id": None,
        "changed_at": now,
    }


def _fan_out(session: Session, viewer: Viewer, lots: frozenset[int] | None, now) -> None:
    """Address to one user a row for every entity they could see in `lots` (None: all they see):
    the reader sends each as an item when still visible, as `removed` when not."""
    if viewer.role in (Role.ADMIN, Role.SPECIALIST):
        if lots is not None:
            return  # their view does not depend on lots
    elif lots is not None:
        if not lots:
            return
        viewer = Viewer(viewer.id, viewer.role, lots)
    for synced in synced_types():
        if not synced.receives(viewer):
            continue
        rep = synced.column(synced.rep_column) if synced.rep_column else null()
        dealership = synced.column(synced.dealership_column)
        rows = select(
            literal(synced.entity_type),
            synced.model.id,
            dealership,
            dealership,
            rep,
            rep,
            literal(viewer.id),
            literal(now, UTCDateTime),
        ).where(synced.visible(viewer))
        session.execute(
            insert(ChangeLogEntry).from_select(
                [
                    "entity_type",
                    "entity_id",
                    "dealership_id",
                    "previous_dealership_id",
                    "rep_id",
                    "previous_rep_id",
                    "user_id",
                    "changed_at",
                ],
                rows,
            )
        )


def _before_commit(session: Session) -> None:
    session.flush()
    pending: _Pending | None = session.info.pop(PENDING, None)
    if pending is None:
        return
    if not (pending.changed or pending.related or pending.scope):
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOG_LOCK})
    now = utcnow()
    rows: list[dict[str, Any]] = []
    by_type: dict[str, list[int]] = {}
    for entity_type, entity_id in pending.changed:
        by_type.setdefault(entity_type, []).append(entity_id)
    for entity_type, ids in by_type.items():
        synced = synced_type(entity_type)
        owners = _current_owners(session, synced, ids)
        for entity_id in ids:
            before = pending.changed[(entity_type, entity_id)]
            rows.append(_row(entity_type, entity_id, before, owners.get(entity_id, (None, None)), now))
    for entity_type, entity_id, before, after in sorted(pending.related, key=lambda r: (r[0], r[1])):
        rows.append(_row(entity_type, entity_id, before, after, now))
    if rows:
        session.execute(insert(ChangeLogEntry), rows)
    for old, new in pending.scope:
        if old.role != new.role:
            _fan_out(session, old, None, now)
            _fan_out(session, new, None, now)
        else:
            _fan_out(session, old, old.dealership_ids - new.dealership_ids, now)
            _fan_out(session, new, new.dealership_ids - old.dealership_ids, now)


def _after_transaction_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)


_installed = False


def install() -> None:
    """Listen on every ORM session (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _before_bulk)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
    rows_inserted.connect(_note_inserted)
    _installed = True
