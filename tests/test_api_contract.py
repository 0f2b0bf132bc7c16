"""The published OpenAPI document against the live server: a client generated from it with
openapi-python-client drives the field work end to end, and schemathesis checks every
operation's answers against the document. Both tools come from requirements-dev.txt
(`scripts/check-api` installs them); without them these tests are skipped."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD
from tests.timing import days_ahead, local_today, recent_daytime

# Threads, other connections or jobs with their own transactions: data must really commit.
pytestmark = pytest.mark.real_commits

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
needs_generator = pytest.mark.skipif(
    GENERATOR is None, reason="openapi-python-client is not installed: run scripts/check-api (requirements-dev.txt)"
)


@pytest.fixture
def live_server(app):
    """The app on 127.0.0.1 on a free port, in a thread, for real HTTP."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def generated_client(tmp_path_factory):
    """The client generated from the checked-in document, imported as `field_ops_client`."""
    folder = tmp_path_factory.mktemp("generated")
    env_path = f"{Path(sys.executable).parent}"
    result = subprocess.run(
        [GENERATOR, "generate", "--path", str(ROOT / "openapi/openapi.json"), "--meta", "none",
         "--config", str(ROOT / "openapi/client-generator.yaml"),
         "--output-path", str(folder / "field_ops_client")],
        capture_output=True, text=True, env={"PATH": env_path}, check=False,
    )  # fmt: skip
    assert result.returncode == 0 and "warning" not in (result.stdout + result.stderr).lower(), result.stdout
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("field_ops_client")
    finally:
        sys.path.remove(str(folder))


def _signed_in(fc, base_url, user):
    from field_ops_client.api.auth import auth_issue_token
    from field_ops_client.models import TokenRequest

    pair = auth_issue_token.sync(
        client=fc.Client(base_url=base_url), body=TokenRequest(email=user.email, password=PASSWORD)
    )
    return fc.AuthenticatedClient(base_url=base_url, token=pair.access_token)


@needs_generator
def test_the_mobile_and_office_apps_work_through_the_generated_client(
    generated_client, live_server, make_dealership, make_user, make_account, make_visit
):
    fc = generated_client
    from field_ops_client.api.routing import (
        routing_get_route,
        routing_get_route_geojson,
        routing_my_route,
        routing_plan_routes,
    )
    from field_ops_client.api.schedules import (
        schedules_get_schedule,
        schedules_get_schedule_csv,
        schedules_get_schedule_xlsx,
    )
    from field_ops_client.api.users import users_get_users
    from field_ops_client.api.visits import (
        visits_check_in,
        visits_post_visits,
        visits_record_outcome,
        visits_record_outcomes_batch,
    )
    from field_ops_client.models import (
        CheckIn,
        Outcome,
        OutcomeBatch,
        OutcomeFields,
        Route,
        RoutePlan,
        RoutePlanRequest,
        User,
        Visit,
        VisitCreate,
    )

    lot = make_dealership()
    admin = make_user("admin")
    specialist = make_user("specialist", dealerships=[lot])
    rep = make_user("rep", dealerships=[lot])
    account, other = make_account(lot), make_account(lot)
    office = _signed_in(fc, live_server, specialist)

    start = days_ahead(2, "09:00")
    booked = visits_post_visits.sync(
        client=office,
        body=VisitCreate.from_dict(
            {"account_id": account.id, "window_start": start.isoformat(),
             "window_end": (start + timedelta(hours=3)).isoformat(), "assigned_rep_id": rep.id}
        ),
    )  # fmt: skip
    assert isinstance(booked, Visit) and booked.status == "scheduled"
    plan = routing_plan_routes.sync(lot.id, client=office, body=RoutePlanRequest.from_dict({"date": str(start.date())}))
    assert isinstance(plan, RoutePlan) and [s.visit_id for s in plan.routes[0].stops] == [booked.id]
    route = routing_get_route.sync(plan.routes[0].id, client=office)
    assert isinstance(route, Route) and route.rep_id == rep.id
    shape = routing_get_route_geojson.sync(route.id, client=office)
    assert shape.type_ == "FeatureCollection" and len(shape.features) == 2
    sheet = schedules_get_schedule.sync(str(start.date()), client=office, dealership_id=lot.id)
    assert [row.visit_id for row in sheet.rows] == [booked.id] and sheet.rows[0].rep_id == rep.id
    csv_text = schedules_get_schedule_csv.sync(str(start.date()), client=office, dealership_id=lot.id)
    assert account.account_number in csv_text
    workbook = openpyxl.load_workbook(schedules_get_schedule_xlsx.sync(str(start.date()), client=office).payload)
    assert "All" in workbook.sheetnames

    users = users_get_users.sync(client=_signed_in(fc, live_server, admin))
    assert all(isinstance(user, User) for user in users) and {u.email for u in users} >= {rep.email, admin.email}

    phone = _signed_in(fc, live_server, rep)
    mine = routing_my_route.sync(client=phone, date=start.date())
    assert mine.route_id == route.id and mine.stops[0].visit.id == booked.id
    day_off = routing_my_route.sync(client=phone, date=start.date() + timedelta(days=1))
    assert day_off.route_id is None and day_off.stops == []

    at = recent_daytime()
    today = make_visit(account, at - timedelta(hours=1), at + timedelta(hours=1), rep=rep)
    later = make_visit(other, at - timedelta(hours=1), at + timedelta(hours=1), rep=rep)
    door = CheckIn.from_dict({"latitude": 36.37, "longitude": -94.21, "recorded_at": at.isoformat()})
    assert visits_check_in.sync(today.id, client=phone, body=door).on_site is True
    assert visits_check_in.sync(later.id, client=phone, body=door).status == "checked_in"
    key, body = str(uuid.uuid4()), OutcomeFields.from_dict({"outcome": "not_home"})
    first = visits_record_outcome.sync_detailed(today.id, client=phone, body=body, idempotency_key=key)
    assert first.status_code == 201 and isinstance(first.parsed, Outcome)
    assert first.parsed.payment_method is None and first.parsed.notes is None
    assert first.headers["Location"] == f"/api/v1/visits/{today.id}/outcome"
    replay = visits_record_outcome.sync_detailed(today.id, client=phone, body=body, idempotency_key=key)
    assert replay.status_code == 201 and replay.parsed == first.parsed
    batch = visits_record_outcomes_batch.sync(
        client=phone,
        body=OutcomeBatch.from_dict(
            {"items": [{"visit_id": later.id, "idempotency_key": str(uuid.uuid4()), "outcome": "refused"}]}
        ),
    )
    assert [result.status for result in batch.results] == [201], batch.results[0].body.to_dict()


@needs_generator
def test_a_day_of_lot_issues_follow_ups_payments_contacts_and_sync_works_through_the_generated_client(
    generated_client, live_server, make_dealership, make_user, make_account, make_visit
):
    fc = generated_client
    from field_ops_client.api.collections import collections_summaries
    from field_ops_client.api.contacts import contacts_post_account_contacts
    from field_ops_client.api.follow_ups import follow_ups_get_follow_ups
    from field_ops_client.api.lot_issues import (
        lot_issues_get_lot_issue_by_id,
        lot_issues_patch_lot_issue_by_id,
        lot_issues_post_lot_issues,
    )
    from field_ops_client.api.payments import payments_get_promises, payments_post_account_payments
    from field_ops_client.api.sync import sync_sync
    from field_ops_client.api.visits import visits_check_in, visits_record_outcome
    from field_ops_client.models import (
        CheckIn,
        CollectionSummary,
        Contact,
        ContactCreate,
        FollowUp,
        LotIssue,
        LotIssueCreate,
        LotIssuePatch,
        OutcomeFields,
        Payment,
        PaymentCreate,
        Problem,
        Promise,
        Sync,
    )

    lot = make_dealership()
    rep = make_user("rep", dealerships=[lot])
    manager = make_user("manager", dealerships=[lot])
    specialist = make_user("specialist", dealerships=[lot])
    account, moved = make_account(lot), make_account(lot)
    phone = _signed_in(fc, live_server, rep)

    filed = lot_issues_post_lot_issues.sync_detailed(
        client=phone,
        body=LotIssueCreate.from_dict(
            {"dealership_id": lot.id, "category": "gps_device", "severity": "high", "title": "GPS unit dead on 4 cars"}
        ),
    )
    assert filed.status_code == 201 and isinstance(filed.parsed, LotIssue) and filed.parsed.status == "open"
    assert filed.headers["Location"] == f"/api/v1/lot-issues/{filed.parsed.id}"
    issue = filed.parsed

    desk = _signed_in(fc, live_server, manager)
    read = lot_issues_get_lot_issue_by_id.sync_detailed(issue.id, client=desk)
    etag = read.headers["ETag"]
    acknowledge = LotIssuePatch.from_dict({"status": "acknowledged"})
    acknowledged = lot_issues_patch_lot_issue_by_id.sync(issue.id, client=desk, body=acknowledge, if_match=etag)
    assert isinstance(acknowledged, LotIssue) and acknowledged.status == "acknowledged"
    assert acknowledged.acknowledged_at is not None
    stale = lot_issues_patch_lot_issue_by_id.sync_detailed(issue.id, client=desk, body=acknowledge, if_match=etag)
    assert stale.status_code == 412 and isinstance(stale.parsed, Problem)

    at = recent_daytime()
    due = local_today() + timedelta(days=3)
    door = CheckIn.from_dict({"latitude": 36.37, "longitude": -94.21, "recorded_at": at.isoformat()})
    outcomes = (
        (account, {"outcome": "promise_to_pay", "promise_date": due.isoformat(), "promise_amount": "150.00"}),
        (moved, {"outcome": "customer_moved"}),
    )
    visits = []
    for customer, fields in outcomes:
        visit = make_visit(customer, at - timedelta(hours=1), at + timedelta(hours=1), rep=rep)
        visits.append(visit.id)
        assert visits_check_in.sync(visit.id, client=phone, body=door).status == "checked_in"
        recorded = visits_record_outcome.sync_detailed(
            visit.id, client=phone, body=OutcomeFields.from_dict(fields), idempotency_key=str(uuid.uuid4())
        )
        assert recorded.status_code == 201, recorded.content

    office = _signed_in(fc, live_server, specialist)
    queue = follow_ups_get_follow_ups.sync(client=office, dealership_id=lot.id)
    assert all(isinstance(item, FollowUp) for item in queue)
    assert [(item.kind, item.account_id) for item in queue] == [("skip_trace", moved.id)]

    key = str(uuid.uuid4())
    cash = PaymentCreate.from_dict({"amount": "150.00", "paid_on": local_today().isoformat(), "method": "cash"})
    paid = payments_post_account_payments.sync_detailed(account.id, client=office, body=cash, idempotency_key=key)
    assert paid.status_code == 201 and isinstance(paid.parsed, Payment) and paid.parsed.amount == "150.00"
    assert paid.headers["Location"] == f"/api/v1/payments/{paid.parsed.id}"
    again = payments_post_account_payments.sync_detailed(account.id, client=office, body=cash, idempotency_key=key)
    assert again.status_code == 201 and again.parsed == paid.parsed

    [promise] = payments_get_promises.sync(client=office, account_id=account.id)
    assert isinstance(promise, Promise) and promise.promise_date == due
    assert (promise.status, promise.paid_amount) == ("kept", "150.00")

    call = ContactCreate.from_dict(
        {"channel": "call", "direction": "inbound", "at": at.isoformat(), "resolution": "payment_arranged",
         "summary": "Paid the promise in cash at the lot"}
    )  # fmt: skip
    contact = contacts_post_account_contacts.sync_detailed(account.id, client=office, body=call)
    assert contact.status_code == 201 and isinstance(contact.parsed, Contact)
    assert contact.headers["Location"] == f"/api/v1/contacts/{contact.parsed.id}"

    figures = collections_summaries.sync(client=office, from_=local_today() - timedelta(days=7), to=local_today())
    [mine] = [entry for entry in figures if entry.dealership_id == lot.id]
    assert isinstance(mine, CollectionSummary) and mine.promises.made == 1

    pages, cursor, seen_visits, seen_issues = 0, None, set(), set()
    while True:
        page = sync_sync.sync(client=phone, limit=2, **({"since": cursor} if cursor else {}))
        assert isinstance(page, Sync) and page.follow_ups == []
        pages, cursor = pages + 1, page.cursor
        seen_visits |= {visit.id for visit in page.visits}
        seen_issues |= {item.id for item in page.lot_issues}
        if not page.has_more:
            break
    assert pages > 1 and seen_visits == set(visits) and seen_issues == {issue.id}
    assert sync_sync.sync(client=phone, since=cursor).visits == []


SCHEMATHESIS = shutil.which("st", path=str(Path(sys.executable).parent))
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
)


def _schemathesis(live_server, user, tmp_path, *selection):
    """schemathesis over the live document as `user` (every operation unless `selection` narrows it)."""
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
        "FIELD_OPS_CHECK_URL": live_server,
        "FIELD_OPS_CHECK_EMAIL": user.email,
        "FIELD_OPS_CHECK_PASSWORD": PASSWORD,
    }
    result = subprocess.run(
        [SCHEMATHESIS, "run", f"{live_server}/openapi.json", "--url", live_server,
         "--checks", CHECKS, "--seed", "42", "--max-examples", "5", "--workers", "1", "--no-color",
         "--generation-deterministic", *selection],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=False, timeout=600,
    )  # fmt: skip
    if os.environ.get("FIELD_OPS_CHECK_REPORT"):
        with Path(os.environ["FIELD_OPS_CHECK_REPORT"]).open("a") as report:
            report.write(f"== as {user.role}\n{result.stdout}{result.stderr}")
    return result


@pytest.mark.skipif(
    SCHEMATHESIS is None, reason="schemathesis is not installed: run scripts/check-api (requirements-dev.txt)"
)
def test_every_operation_answers_as_its_document_says(
    live_server, make_dealership, make_user, make_account, make_visit, tmp_path
):
    lot = make_dealership()
    admin = make_user("admin", dealerships=[lot])
    rep = make_user("rep", dealerships=[lot])
    at = recent_daytime()
    make_visit(make_account(lot), at - timedelta(hours=1), at + timedelta(hours=1), rep=rep)
    everything = _schemathesis(live_server, admin, tmp_path)
    assert everything.returncode == 0, everything.stdout[-6000:] + everything.stderr[-2000:]
    # The phone's own reads answer a rep with more than the admin's 403 or empty page.
    phone = _schemathesis(live_server, rep, tmp_path, "--include-path-regex", "^/api/v1/(me/route|sync)$")
    assert phone.returncode == 0, phone.stdout[-6000:] + phone.stderr[-2000:]
