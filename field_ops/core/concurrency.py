"""Optimistic concurrency for PATCH: exactly one of several writers holding one ETag wins.

`lock_and_check_etag` locks the row (`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite a writing
request already holds the database's write lock from `BEGIN IMMEDIATE`), reads it again as
committed by whoever held the lock before, and only then compares `If-Match`. A second writer
with the same ETag therefore waits for the first to commit and then gets 412, instead of both
reading the old row and both succeeding.

Use it in every endpoint that changes a record under `If-Match`:

    record = service.get_thing(session, current_user(), thing_id)
    lock_and_check_etag(blp, session, record, ThingSchema)
    return service.update_thing(session, ..., record, changes)
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from marshmallow import Schema
from sqlalchemy import and_, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field_ops.core.api import Blueprint
from field_ops.core.errors import ProblemError

T = TypeVar("T")


def lock_row(session: Session, record: Any) -> None:
    """Lock `record`'s row until the transaction ends and reload it as last committed."""
    mapper = inspect(record).mapper
    table = mapper.local_table
    key = inspect(record).identity
    condition = and_(*(column == value for column, value in zip(mapper.primary_key, key, strict=True)))
    # Lock by primary key alone (eager joins cannot be locked on PostgreSQL), then reload.
    session.execute(select(*mapper.primary_key).select_from(table).where(condition).with_for_update())
    session.refresh(record)


def lock_and_check_etag(blp: Blueprint, session: Session, record: Any, schema: type[Schema] | Schema) -> None:
    """Lock the row, re-read it, then check `If-Match` against it (412/428 as flask-smorest does)."""
    lock_row(session, record)
    blp.check_etag(record, schema)


def lock_lot_day(session: Session, model: type[T], dealership_id: int, day: date, busy: ProblemError, **new: Any) -> T:
    """The lot-day row of `model` (keyed by `dealership_id` and `date`), locked until the
    transaction ends; created with `new` when there is none. A second writer waits on the lock;
    two creating the first row at once: one of them gets `busy` (the unique key refuses it)."""
    stmt = select(model).filter_by(dealership_id=dealership_id, date=day)
    row = session.scalar(stmt.with_for_update())
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = model(dealership_id=dealership_id, date=day, **new)
            session.add(row)
    except IntegrityError as exc:
        raise busy from exc
    return row
