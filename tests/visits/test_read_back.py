"""The office and the phone read back what a rep recorded at the door, without the audit trail."""

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from field_ops.core.db import transaction
from field_ops.routing.models import Route, RoutePlan
from field_ops.visits.models import Visit
from tests.timing import iso, local_today, recent_daytime

HOME = (36.37, -94.21)


@pytest.fixture
def lot(make_dealership):
    return make_dealership(code="RBK")


@pytest.fixture
def rep(make_user, lot):
    return make_user("rep", dealerships=[lot], name="Rita Ortiz")


@pytest.fixture
def rep_headers(login, rep):
    return login(rep)


@pytest.fixture
def visit(make_account, make_visit, lot, rep):
    account = make_account(lot, latitude=HOME[0], longitude=HOME[1])
    at = recent_daytime()
    return make_visit(account, at - timedelta(hours=1), at + timedelta(hours=1), rep=rep)


def check_in(client, headers, visit_id):
    body = {"latitude": HOME[0], "longitude": HOME[1], "accuracy_m": 8, "recorded_at": iso(recent_daytime())}
    response = client.post(f"/api/v1/visits/{visit_id}/check-in", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def promise(client, headers, visit_id, key="promise-1"):
    body = {"outcome": "promise_to_pay", "promise_date": (local_today() + timedelta(days=5)).isoformat(),
            "promise_amount": "80.00", "notes": "Pays Friday"}  # fmt: skip
    return client.post(f"/api/v1/visits/{visit_id}/outcome", json=body, headers={**headers, "Idempotency-Key": key})


def test_a_visit_reads_back_its_check_in_and_outcome(client, rep_headers, office, visit):
    before = client.get(f"/api/v1/visits/{visit.id}", headers=office).json
    assert before["check_in"] is None and before["outcome"] is None

    check_in(client, rep_headers, visit.id)
    checked = client.get(f"/api/v1/visits/{visit.id}", headers=office).json
    assert checked["check_in"] == {
        "at": recent_daytime().astimezone(UTC).isoformat(),
        "latitude": HOME[0],
        "longitude": HOME[1],
        "accuracy_m": 8.0,
        "distance_m": 0.0,
        "on_site": True,
        "in_window": True,
    }
    assert checked["outcome"] is None

    recorded = promise(client, rep_headers, visit.id)
    assert recorded.status_code == 201
    assert recorded.headers["Location"] == f"/api/v1/visits/{visit.id}/outcome"
    replayed = promise(client, rep_headers, visit.id)
    assert replayed.status_code == 201 and replayed.headers["Location"] == recorded.headers["Location"]

    done = client.get(f"/api/v1/visits/{visit.id}", headers=office).json
    assert done["status"] == "completed"
    assert done["outcome"] == recorded.json
    assert done["outcome"]["promise_amount"] == "80.00"


def test_the_outcome_is_its_own_resource(client, rep_headers, office, visit, make_user, login, lot):
    url = f"/api/v1/visits/{visit.id}/outcome"
    missing = client.get(url, headers=office)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    check_in(client, rep_headers, visit.id)
    recorded = promise(client, rep_headers, visit.id).json

    for headers in (office, rep_headers):
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and response.json == recorded
        assert response.headers["ETag"]
    etag = client.get(url, headers=office).headers["ETag"]
    assert client.get(url, headers={**office, "If-None-Match": etag}).status_code == 304

    other_rep = login(make_user("rep", dealerships=[lot]))
    assert client.get(url, headers=other_rep).status_code == 404
    stranger = login(make_user("manager"))
    assert client.get(url, headers=stranger).status_code == 404


def test_the_schedule_carries_what_each_outcome_recorded_in_every_format(client, rep_headers, office, visit, lot):
    check_in(client, rep_headers, visit.id)
    recorded = promise(client, rep_headers, visit.id).json
    url = f"/api/v1/schedules/{visit.scheduled_date.isoformat()}?dealership_id={lot.id}"

    [row] = client.get(url, headers=office).json["rows"]
    assert (row["outcome"], row["amount_collected"]) == ("promise_to_pay", None)
    assert (row["promise_date"], row["promise_amount"]) == (recorded["promise_date"], "80.00")

    table = list(csv.reader(io.StringIO(client.get(f"{url}&format=csv", headers=office).data.decode("utf-8-sig"))))
    assert table[0][-3:] == ["Amount Collected", "Promise Date", "Promise Amount"]
    assert table[1][-3:] == ["", recorded["promise_date"], "80.00"]

    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"{url}&format=xlsx", headers=office).data))["All"]
    header = [cell.value for cell in sheet[2]]  # row 1 is the sheet's title
    values = dict(zip(header, [cell for cell in sheet[3]], strict=True))
    assert values["Amount Collected"].value is None
    assert values["Promise Date"].value.date().isoformat() == recorded["promise_date"]
    assert values["Promise Amount"].value == 80.0 and values["Promise Amount"].number_format == "#,##0.00"


def test_a_rep_sees_on_their_route_which_stops_are_done(app, client, rep_headers, rep, visit, make_visit):
    at = recent_daytime()
    with app.app_context(), transaction() as session:
        plan = RoutePlan(dealership_id=visit.dealership_id, date=visit.scheduled_date)
        session.add(plan)
        session.flush()
        route = Route(plan_id=plan.id, dealership_id=visit.dealership_id, rep_id=rep.id, date=visit.scheduled_date)
        session.add(route)
        session.flush()
        stop = session.get(Visit, visit.id)
        stop.route_id, stop.sequence, stop.eta = route.id, 1, at
        second = Visit(
            account_id=visit.account_id, dealership_id=visit.dealership_id, kind="personal_visit",
            scheduled_date=visit.scheduled_date, window_start=at, window_end=at + timedelta(hours=2),
            status="scheduled", assigned_rep_id=rep.id, route_id=route.id, sequence=2, eta=at + timedelta(hours=1),
        )  # fmt: skip
        session.add(second)
    check_in(client, rep_headers, visit.id)
    recorded = promise(client, rep_headers, visit.id).json

    mine = client.get(f"/api/v1/me/route?date={visit.scheduled_date.isoformat()}", headers=rep_headers).json
    first, then = mine["stops"]
    assert first["visit"]["status"] == "completed" and first["visit"]["outcome"] == recorded
    assert first["visit"]["check_in"]["on_site"] is True
    assert then["visit"]["status"] == "scheduled" and then["visit"]["outcome"] is None
    # Each stop reads as the visit's own page does, and its account as the rep may see it.
    for stop in mine["stops"]:
        assert stop["visit"] == client.get(f"/api/v1/visits/{stop['visit']['id']}", headers=rep_headers).json
        account = client.get(f"/api/v1/accounts/{stop['visit']['account_id']}", headers=rep_headers).json
        assert stop["account"] == {key: account[key] for key in stop["account"]}
        assert set(stop["account"]) == {"id", "account_number", "customer_name", "phone", "address", "latitude",
                                        "longitude", "amount_due", "days_past_due"}  # fmt: skip
    assert (first["sequence"], then["sequence"]) == (1, 2) and then["eta"] == then["visit"]["eta"]


def test_the_audit_trail_filters_by_actor_action_and_time(client, office, admin_headers, make_user, visit, login):
    specialist = make_user("specialist")
    headers = login(specialist)
    url = f"/api/v1/visits/{visit.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    assert client.patch(url, json={"notes": "call first"}, headers={**headers, "If-Match": etag}).status_code == 200

    def trail(**params):
        response = client.get("/api/v1/audit", query_string=params, headers=admin_headers)
        assert response.status_code == 200, response.json
        return response.json

    mine = trail(actor_id=specialist.id)
    assert [(e["action"], e["entity_id"]) for e in mine] == [("visit.updated", visit.id)]
    assert trail(action="visit.updated", entity_type="visit") == mine
    assert trail(action="visit.cancelled") == []
    now = datetime.now(UTC)
    assert trail(actor_id=specialist.id, since=iso(now - timedelta(minutes=5)), until=iso(now + timedelta(minutes=5)))
    assert trail(actor_id=specialist.id, until=iso(now - timedelta(minutes=5))) == []
    for entity_type in ("promise", "payment", "contact", "campaign", "lot_issue", "follow_up"):
        assert trail(entity_type=entity_type) == []
    backwards = client.get(
        "/api/v1/audit",
        query_string={"since": iso(now), "until": iso(now - timedelta(hours=1))},
        headers=admin_headers,
    )
    assert backwards.status_code == 422 and "until" in backwards.json["errors"]
    assert client.get("/api/v1/audit?entity_type=banana", headers=admin_headers).status_code == 422
