"""The database: engine, the one session per request, and the column types every model shares.

A request gets its session lazily from `get_session()`. The app commits it once after the
view returns (see `FieldOpsFlask.dispatch_request`) and rolls it back on any error, so every
write is one transaction. Service functions flush, never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import DateTime, Engine, MetaData, Numeric, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timestamps must carry an offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Money as an exact decimal with two places; never a float."""

    impl = Numeric(12, 2)
    cache_ok = True

    def process_result_value(self, value, dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(Decimal("0.01"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    kwargs: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 3}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Let SQLAlchemy, not pysqlite, emit BEGIN: savepoints then work, and BEGIN IMMEDIATE
            # below takes the write lock up front, so two writers queue instead of deadlocking.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            # WAL: readers never wait for a writer, and a writer never waits for readers.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE" if _may_write() else "BEGIN")

    return engine


def _may_write() -> bool:
    """A request that may write takes SQLite's write lock up front; reads (GET, HEAD, OPTIONS)
    never do. CLI commands and jobs outside a request count as writers."""
    if not has_request_context():
        return True
    return request.method not in {"GET", "HEAD", "OPTIONS"}


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None or session.in_transaction():
                session.rollback()
            session.close()


def get_engine() -> Engine:
    return current_app.extensions["db_engine"]


def get_session() -> Session:
    """The current request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def commit_request_session() -> None:
    session: Session | None = g.get("db_session")
    if session is not None:
        session.commit()


def rollback_request_session() -> None:
    session: Session | None = g.get("db_session")
    if session is not None:
        session.rollback()


@contextmanager
def transaction(app: Flask | None = None) -> Iterator[Session]:
    """One transaction for a CLI command or a scheduled job: commit at the end, roll back on error."""
    maker = (app or current_app).extensions["db_sessionmaker"]
    with maker.begin() as session:
        yield session
