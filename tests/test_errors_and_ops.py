import logging

import pytest

from field_ops import create_app
from field_ops.core.db import get_engine


def test_malformed_json_is_a_400_problem(client, admin_headers):
    response = client.post("/api/v1/users", data='{"email": ', content_type="application/json", headers=admin_headers)
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "malformed_json"
    assert set(response.json) >= {"type", "title", "status", "detail", "code"}


def test_a_huge_body_is_413_problem(client, app, admin_headers):
    body = '{"email": "' + "a" * (app.config["MAX_CONTENT_LENGTH"] + 10) + '"}'
    response = client.post("/api/v1/users", data=body, content_type="application/json", headers=admin_headers)
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "payload_too_large"


def test_unknown_paths_and_methods_are_problems_not_html(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.content_type == "application/problem+json"
    wrong_method = client.delete("/api/v1/me")
    assert wrong_method.status_code == 405
    assert wrong_method.json["code"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]


def test_timestamps_without_an_offset_are_refused(client, admin_headers):
    response = client.get("/api/v1/audit?since=2026-01-01T10:00:00", headers=admin_headers)
    assert response.status_code == 422
    assert "since" in response.json["errors"]
    assert client.get("/api/v1/audit?since=2026-01-01T10:00:00-06:00", headers=admin_headers).status_code == 200


def test_a_crash_is_a_500_problem_that_logs_the_trace_and_shows_none(database_url, caplog):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text


def test_health_probes(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_is_unreachable():
    app = create_app({"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none", "TESTING": True})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "database_unavailable"


def test_openapi_document_and_docs_are_served(client):
    spec = client.get("/openapi.json").json
    assert spec["info"]["title"] == "Field Ops API"
    for path in ("/api/v1/auth/token", "/api/v1/me", "/api/v1/users/{user_id}", "/healthz", "/readyz"):
        assert path in spec["paths"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary"), (method, path)
    assert client.get("/docs").status_code == 200


def test_a_rep_cannot_read_the_audit_trail(client, make_user, login):
    assert client.get("/api/v1/audit", headers=login(make_user("rep"))).status_code == 403


def test_a_manager_reads_only_their_dealerships_audit_entries(app, client, make_user, make_dealership, login):
    from field_ops.core.audit import record_audit
    from field_ops.core.db import transaction

    mine, other = make_dealership(), make_dealership()
    manager = make_user("manager", dealerships=[mine])
    with app.app_context(), transaction() as session:
        record_audit(session, actor=None, action="x.mine", entity_type="account", entity_id=1, dealership_id=mine.id)
        record_audit(session, actor=None, action="x.other", entity_type="account", entity_id=2, dealership_id=other.id)
    trail = client.get("/api/v1/audit", headers=login(manager)).json
    assert [entry["action"] for entry in trail] == ["x.mine"]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_entries SET action = 'x.rewritten'", "DELETE FROM audit_entries"],
)
def test_the_database_refuses_to_rewrite_or_remove_audit_entries(app, statement):
    from sqlalchemy import func, select, text
    from sqlalchemy.exc import DatabaseError

    from field_ops.core.audit import AuditEntry, record_audit
    from field_ops.core.db import transaction

    with app.app_context(), transaction() as session:
        record_audit(session, actor=None, action="x.kept", entity_type="account", entity_id=1)
    with app.app_context():
        with pytest.raises(DatabaseError, match="append-only"), transaction() as session:
            session.execute(text(statement))
        with transaction() as session:
            assert session.scalars(select(AuditEntry.action)).all() == ["x.kept"]
            assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1


@pytest.mark.real_commits
def test_on_sqlite_reads_answer_while_another_request_holds_the_write_lock(app, client, make_user, login):
    import sqlite3
    import time

    from sqlalchemy.engine import make_url

    url = make_url(app.config["DATABASE_URL"])
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's database-wide write lock only")
    headers = login(make_user("admin"))
    with app.app_context(), get_engine().connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    writer = sqlite3.connect(url.database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # as an import or a route plan in progress would
        writer.execute("UPDATE users SET name = name")
        started = time.perf_counter()
        assert client.get("/readyz").status_code == 200
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert client.get("/api/v1/visits", headers=headers).status_code == 200
        assert time.perf_counter() - started < 2
    finally:
        writer.rollback()
        writer.close()
