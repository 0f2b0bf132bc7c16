"""One runner at a time across every worker and host: a PostgreSQL advisory lock, or a lock row
on SQLite (which has no advisory locks; one file has one writer anyway)."""

from __future__ import annotations

import os
import socket
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine, or_, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import sessionmaker

from field_ops.core.db import utcnow
from field_ops.jobs.models import JobLock

# A crashed holder's lock row frees itself after this long; a run takes seconds.
LOCK_ROW_TTL = timedelta(hours=1)


@contextmanager
def job_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Yield True while this process holds the lock `name`, False when another one does (skip)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection, connection.begin():
            # Transaction-scoped: released by the end of this transaction, even if the process dies.
            key = zlib.crc32(name.encode())
            yield bool(connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))
        return
    maker = sessionmaker(engine)
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    with maker.begin() as session:
        now = utcnow()
        session.execute(sqlite_insert(JobLock).values(name=name).on_conflict_do_nothing(index_elements=["name"]))
        taken = session.execute(
            update(JobLock)
            .where(JobLock.name == name, or_(JobLock.locked_until.is_(None), JobLock.locked_until < now))
            .values(holder=holder, locked_until=now + LOCK_ROW_TTL)
        ).rowcount
    try:
        yield taken == 1
    finally:
        if taken == 1:
            with maker.begin() as session:
                session.execute(
                    update(JobLock)
                    .where(JobLock.name == name, JobLock.holder == holder)
                    .values(holder=None, locked_until=None)
                )
