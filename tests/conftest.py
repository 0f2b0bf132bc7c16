"""Test fixtures: a real database (SQLite by default, PostgreSQL when TEST_DATABASE_URL points
at a server), built by the Alembic migrations, each test rolled back (or the tables emptied after a test that
must really commit), and factories that
return small records so each test shows only the facts it depends on."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from benchmarks import scratch_database
from field_ops import create_app
from field_ops.audit import append_only
from field_ops.core import migrations
from field_ops.core.db import Base, get_engine, transaction
from field_ops.core.dumping import CompiledDump
from field_ops.dealerships.models import Dealership
from field_ops.users.models import User
from field_ops.users.service import create_user

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with scratch_database(os.environ.get("TEST_DATABASE_URL") or "sqlite", label="test") as url:
        yield url


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256",
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_COST": 1024,
            "RATELIMIT_STORAGE_URI": "memory://",
            "ROUTING_TIME_LIMIT_SECONDS": 0.2,
            # Tests send bursts of 20 concurrent requests: let them queue for a connection.
            "DATABASE_POOL_TIMEOUT_SECONDS": 30,
        }
    )
    with app.app_context():
        migrations.upgrade(get_engine())
    yield app
    with app.app_context():
        get_engine().dispose()


@pytest.fixture(scope="session", autouse=True)
def _compiled_dumps_match_marshmallow():
    """Every response the suite dumps through a compiled plan is also dumped by marshmallow
    itself, and the two must be equal: the fast path may never change what a client reads."""
    compiled_dump = CompiledDump.dump

    def checked_dump(schema, obj, *, many=None):
        result = compiled_dump(schema, obj, many=many)
        expected = super(CompiledDump, schema).dump(obj, many=many)
        assert result == expected, f"{type(schema).__name__}: compiled {result!r} != marshmallow {expected!r}"
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CompiledDump, "dump", checked_dump)
        yield


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "real_commits: the test needs data really committed (threads, other connections, jobs "
        "with their own transactions); it is cleaned up by emptying the tables afterwards",
    )


@pytest.fixture(autouse=True)
def _isolated(request, app):
    """Each test runs inside one outer transaction on one connection, rolled back at the end:
    every session the app opens (requests, factories, CLI) joins it and "commits" a savepoint
    (SQLAlchemy's "join a session into an external transaction"). Tests marked `real_commits`
    commit for real and the tables are emptied afterwards."""
    if request.node.get_closest_marker("real_commits"):
        yield
        _empty_tables(app)
        return
    with app.app_context():
        connection = get_engine().connect()
    outer = connection.begin()
    maker, read_maker = app.extensions["db_sessionmaker"], app.extensions["db_read_sessionmaker"]
    app.extensions["db_sessionmaker"] = _OneThreadSessions(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    # Reads join the test's transaction too (their own transaction-less sessions are exercised
    # by the tests that commit for real).
    app.extensions["db_read_sessionmaker"] = None
    try:
        yield
    finally:
        app.extensions["db_sessionmaker"], app.extensions["db_read_sessionmaker"] = maker, read_maker
        outer.rollback()
        connection.close()
        app.extensions["login_throttle"].reset()


class _OneThreadSessions(sessionmaker):
    """Sessions on the test's one connection, which only the test's own thread may use."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.thread = threading.get_ident()

    def __call__(self, **kwargs):
        if threading.get_ident() != self.thread:
            raise RuntimeError("This test opens sessions on other threads: mark it @pytest.mark.real_commits.")
        return super().__call__(**kwargs)


def _empty_tables(app) -> None:
    with app.app_context():
        engine = get_engine()
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                # The audit trail refuses DELETE by trigger: lift it for the cleanup only.
                for statement in append_only.drop_statements("sqlite"):
                    connection.execute(text(statement))
                for table in tables:
                    connection.execute(text(f"DELETE FROM {table}"))
                for statement in append_only.create_statements("sqlite"):
                    connection.execute(text(statement))
        app.extensions["login_throttle"].reset()


@pytest.fixture
def client(app):
    return app.test_client()


_counter = itertools.count(1)


@pytest.fixture
def make_dealership(app):
    def make(**fields) -> Dealership:
        n = next(_counter)
        values = {
            "code": f"L{n:03d}",
            "name": f"Lot {n}",
            "address_line1": "1201 SE Walton Blvd",
            "city": "Bentonville",
            "state": "AR",
            "postal_code": "72712",
            "latitude": 36.359,
            "longitude": -94.1966,
            "timezone": "America/Chicago",
            "geocode_source": "given",
        }
        values.update(fields)
        with app.app_context(), transaction() as session:
            dealership = Dealership(**values)
            session.add(dealership)
        return dealership

    return make


@pytest.fixture
def make_user(app):
    def make(role: str = "admin", dealerships: list[Dealership] | None = None, **fields) -> User:
        n = next(_counter)
        with app.app_context(), transaction() as session:
            user = create_user(
                session,
                actor=None,
                email=fields.pop("email", f"user{n}@example.com"),
                name=fields.pop("name", f"User {n}"),
                role=role,
                password=fields.pop("password", PASSWORD),
                dealership_ids=[d.id for d in dealerships or []],
                **fields,
            )
        return user

    return make


@pytest.fixture
def login(client):
    def log_in(user: User, password: str = PASSWORD) -> dict[str, str]:
        response = client.post("/api/v1/auth/token", json={"email": user.email, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['access_token']}"}

    return log_in


@pytest.fixture
def admin_headers(make_user, login):
    return login(make_user("admin"))


@pytest.fixture
def specialist(make_user):
    return make_user("specialist")


@pytest.fixture
def specialist_headers(specialist, login):
    return login(specialist)


@pytest.fixture
def office(make_user, login):
    """The office: a logged-in specialist of its own (not `specialist`)."""
    return login(make_user("specialist"))


@pytest.fixture
def lot(make_dealership):
    return make_dealership()


@pytest.fixture
def other_lot(make_dealership):
    return make_dealership()


@pytest.fixture
def make_account(app):
    def make(dealership: Dealership, **fields):
        from field_ops.accounts.service import create_account

        n = next(_counter)
        values = {
            "account_number": f"A-{n:05d}",
            "dealership_id": dealership.id,
            "customer_name": f"Customer {n}",
            "phone": "479-555-0100",
            "address": {"line1": f"{n} Oak St", "city": "Bentonville", "state": "AR", "postal_code": "72712"},
            "latitude": 36.37,
            "longitude": -94.21,
            "days_past_due": 10,
        }
        values.update(fields)
        with app.app_context(), transaction() as session:
            return create_account(session, actor=None, **values)

    return make


@pytest.fixture
def make_visit(app):
    """A visit row as it would stand after booking (the booking rules are tested through HTTP)."""

    def make(account, window_start, window_end, rep=None, **fields):
        from zoneinfo import ZoneInfo

        from field_ops.visits.models import Visit

        with app.app_context(), transaction() as session:
            lot = session.get(Dealership, account.dealership_id)
            visit = Visit(
                account_id=account.id,
                dealership_id=account.dealership_id,
                kind=fields.pop("kind", "personal_visit"),
                scheduled_date=window_start.astimezone(ZoneInfo(lot.timezone)).date(),
                window_start=window_start,
                window_end=window_end,
                status=fields.pop("status", "scheduled"),
                assigned_rep_id=rep.id if rep else None,
                **fields,
            )
            session.add(visit)
        return visit

    return make
