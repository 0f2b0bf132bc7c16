"""The database: engine, the one session per request, and the column types every model shares.

A request gets its session lazily from `get_session()`. The app commits it once after the
view returns (see `FieldOpsFlask.dispatch_request`) and rolls it back on any error, so every
write is one transaction. Service functions flush, never commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from blinker import Namespace
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Column, DateTime, Engine, MetaData, Numeric, create_engine, event, inspect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from field_ops.core.deadlines import watchdog

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
        if value.tzinfo is UTC:
            return value
        return value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Money as an exact decimal with two places; never a float."""

    impl = Numeric(12, 2)
    cache_ok = True

    def process_result_value(self, value, dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(Decimal("0.01"))


# Sent as `rows_inserted.send(session, entity_type=..., ids=[...])` after a Core INSERT of mapped
# rows (bulk, ON CONFLICT), which the ORM's flush events never see.
rows_inserted = Namespace().signal("rows-inserted")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def mapped_columns(model: type, keys: Iterable[str] | None = None) -> list[tuple[str, Column]]:
    """(attribute name, table column) of a model's columns in mapper order (only `keys`, when
    given): for Core reads of hot paths that build their records without the ORM."""
    wanted = None if keys is None else set(keys)
    return [(a.key, a.columns[0]) for a in inspect(model).column_attrs if wanted is None or a.key in wanted]


def make_engine(url: str, settings: Mapping[str, Any] | None = None, **engine_kwargs: Any) -> Engine:
    settings = settings or {}
    if url.startswith("postgresql"):
        return _postgresql_engine(url, settings, **engine_kwargs)
    engine = create_engine(url, pool_pre_ping=True, **engine_kwargs)
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


def _postgresql_engine(url: str, settings: Mapping[str, Any], **engine_kwargs: Any) -> Engine:
    """Bounded waits everywhere: connecting, the pool, each statement (server and client side)."""
    statement_s = float(settings.get("DATABASE_STATEMENT_TIMEOUT_SECONDS", 20.0))
    connect_s = int(settings.get("DATABASE_CONNECT_TIMEOUT_SECONDS", 3))
    idle_s = int(settings.get("DATABASE_KEEPALIVES_IDLE_SECONDS", 30))
    connect_args = {
        "connect_timeout": connect_s,
        # TimeZone=UTC: psycopg then hands back timestamps in `datetime.UTC`, which need no conversion.
        "options": f"-c statement_timeout={int(statement_s * 1000)} -c TimeZone=UTC",
        "keepalives": 1,
        "keepalives_idle": idle_s,
        "keepalives_interval": max(1, idle_s // 3),
        "keepalives_count": 3,
    }
    if "poolclass" not in engine_kwargs:
        engine_kwargs.setdefault("pool_timeout", float(settings.get("DATABASE_POOL_TIMEOUT_SECONDS", 5.0)))
    engine = create_engine(url, connect_args=connect_args, **engine_kwargs)
    # The server cancels a long statement itself; the client gives up a little later, when the
    # server cannot even do that (stopped, unreachable).
    client_deadline = statement_s + 1.0
    ping_deadline = float(connect_s)

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(connection, cursor, statement, parameters, context, executemany):
        watchdog.arm(cursor.connection, client_deadline)

    @event.listens_for(engine, "after_cursor_execute")
    def _disarm(connection, cursor, statement, parameters, context, executemany):
        watchdog.disarm(cursor.connection)

    @event.listens_for(engine, "handle_error")
    def _disarm_on_error(context):
        if context.connection is not None and not context.connection.closed:
            watchdog.disarm(context.connection.connection.dbapi_connection)

    # A connection back in the pool within the last moments answered then; every statement on it
    # is under the client deadline anyway. One idle longer is pinged before use.
    ping_after_idle_s = float(settings.get("DATABASE_PING_AFTER_IDLE_SECONDS", 2.0))

    @event.listens_for(engine, "checkin")
    def _note_checkin(_dbapi_connection, record):
        if record is not None:
            record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy):
        # pool_pre_ping, but under a deadline: a dead or silent connection is replaced.
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is not None and time.monotonic() - checked_in_at < ping_after_idle_s:
            return
        watchdog.arm(dbapi_connection, ping_deadline)
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:
            raise DisconnectionError("the database did not answer the ping") from exc
        finally:
            watchdog.disarm(dbapi_connection)

    return engine


def _may_write() -> bool:
    """A request that may write takes SQLite's write lock up front; reads (GET, HEAD, OPTIONS)
    never do, but for a view marked `writes_on_read`. CLI commands and jobs outside a request
    count as writers."""
    return not _is_read_request()


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlyRequest(RuntimeError):
    """A GET tried to write: reads run without a transaction, so a write there is a bug."""


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], app.config)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    # A read request on PostgreSQL runs each statement on its own (autocommit): no BEGIN and
    # COMMIT round trips, and a read has nothing to keep together. SQLite keeps its deferred
    # BEGIN: there a transaction is what keeps a reader out of a writer's way.
    app.extensions["db_read_sessionmaker"] = (
        sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
        if engine.dialect.name == "postgresql"
        else None
    )

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            # A read's session has nothing to undo: closing it hands its connection back.
            if not session.info.get("read_only") and (exc is not None or session.in_transaction()):
                session.rollback()
            session.close()


def get_engine() -> Engine:
    return current_app.extensions["db_engine"]


def writes_on_read(view: Callable) -> Callable:
    """Marks a view whose GET may write (a token made on first read): it gets a transaction."""
    view.writes_on_read = True  # type: ignore[attr-defined]
    return view


def _is_read_request() -> bool:
    if not has_request_context() or request.method not in READ_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    method = getattr(getattr(view, "view_class", None), request.method.lower(), None)  # a MethodView's
    return not (getattr(view, "writes_on_read", False) or getattr(method, "writes_on_read", False))


def get_session() -> Session:
    """The current request's session, opened on first use; a read request's refuses writes."""
    if "db_session" not in g:
        extensions = current_app.extensions
        if _is_read_request():
            maker = extensions["db_read_sessionmaker"] or extensions["db_sessionmaker"]
            g.db_session = maker(info={"read_only": True})
        else:
            g.db_session = extensions["db_sessionmaker"]()
    return g.db_session


@event.listens_for(Session, "before_flush")
def _refuse_flush_in_reads(session: Session, _context, _instances) -> None:
    if session.info.get("read_only") and (session.new or session.deleted or session.dirty):
        raise ReadOnlyRequest("a read request tried to write")


@event.listens_for(Session, "do_orm_execute")
def _refuse_dml_in_reads(state) -> None:
    if state.session.info.get("read_only") and (state.is_insert or state.is_update or state.is_delete):
        raise ReadOnlyRequest("a read request tried to write")


def commit_request_session() -> None:
    session: Session | None = g.get("db_session")
    if session is not None and not session.info.get("read_only"):  # a read has nothing to commit
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
