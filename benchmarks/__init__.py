"""Benchmarks: each module runs with `python -m benchmarks.<name>` (see the README)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


@contextmanager
def scratch_database(url: str, label: str = "bench") -> Iterator[str]:
    """The URL of a throwaway database for one run (a benchmark's, or the test session's): a new
    database on the PostgreSQL server at `url`, dropped afterwards; or, for any other `url` (say
    "sqlite"), a SQLite file."""
    if not url.startswith("postgresql"):
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / f'{label}.sqlite3'}"
        return
    server = make_url(url)
    name = f"field_ops_{label}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
