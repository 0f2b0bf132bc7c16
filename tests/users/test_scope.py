"""Who reads and changes what: scope follows a user's current dealerships at every request."""

from __future__ import annotations

import uuid
from datetime import timedelta

import icalendar
import pytest

from tests.timing import days_ahead, local, recent_daytime


@pytest.fixture
def admin(make_user, login):
    return login(make_user("admin"))


def patch_user(client, admin, user_id, changes):
    etag = client.get(f"/api/v1/users/{user_id}", headers=admin).headers["ETag"]
    return client.patch(f"/api/v1/users/{user_id}", json=changes, headers={**admin, "If-Match": etag})


def feed_events(client, rep_headers):
    token = client.get("/api/v1/me/calendar-token", headers=rep_headers).json["token"]
    feed = client.get(f"/api/v1/calendar/{token}.ics")
    assert feed.status_code == 200
    return [e for e in icalendar.Calendar.from_ical(feed.data).walk("VEVENT")]


def test_a_rep_taken_off_a_lot_no_longer_sees_its_route_or_calendar(
    client, admin, lot, make_user, make_account, make_visit, login
):
    rep = make_user("rep", dealerships=[lot])
    rep_headers = login(rep)
    day = days_ahead(2, "00:00").date()
    make_visit(make_account(lot, customer_name="Dana Secret"), local(day, "09:00"), local(day, "17:00"), rep=rep)
    planned = client.post(f"/api/v1/dealerships/{lot.id}/route-plans", json={"date": day.isoformat()}, headers=admin)
    assert planned.status_code == 200, planned.json
    route = client.get(f"/api/v1/me/route?date={day.isoformat()}", headers=rep_headers).json
    assert [stop["account"]["customer_name"] for stop in route["stops"]] == ["Dana Secret"]
    assert len(feed_events(client, rep_headers)) == 1

    assert patch_user(client, admin, rep.id, {"dealership_ids": []}).status_code == 200

    route = client.get(f"/api/v1/me/route?date={day.isoformat()}", headers=rep_headers).json
    assert route["stops"] == [] and route["route_id"] is None
    assert "Dana Secret" not in str(route)
    assert feed_events(client, rep_headers) == []


def test_a_rep_reads_only_the_accounts_of_their_own_visits_and_never_the_restriction_note(
    client, lot, make_user, make_account, make_visit, login
):
    rep = make_user("rep", dealerships=[lot])
    rep_headers = login(rep)
    mine = make_account(lot, restrictions={"do_not_visit": False})
    someone_elses = make_account(lot)
    start = days_ahead(2, "10:00")
    make_visit(mine, start, start + timedelta(hours=1), rep=rep)
    make_visit(someone_elses, start, start + timedelta(hours=1), rep=make_user("rep", dealerships=[lot]))

    listed = client.get("/api/v1/accounts", headers=rep_headers).json
    assert [a["id"] for a in listed] == [mine.id]
    assert all("restriction_note" not in a for a in listed)
    own = client.get(f"/api/v1/accounts/{mine.id}", headers=rep_headers)
    assert own.status_code == 200 and "restriction_note" not in own.json
    assert client.get(f"/api/v1/accounts/{someone_elses.id}", headers=rep_headers).status_code == 404


def test_the_office_still_reads_the_restriction_note(client, admin, lot, make_account):
    account = make_account(lot, restrictions={"bankruptcy": True}, restriction_note="Chapter 7 filed")
    assert client.get(f"/api/v1/accounts/{account.id}", headers=admin).json["restriction_note"] == "Chapter 7 filed"


def test_dealerships_are_created_and_changed_by_admins_only(client, lot, make_user, login):
    specialist = login(make_user("specialist"))
    body = {
        "code": "NEW1",
        "name": "New lot",
        "address": {"line1": "1 Main St", "city": "Bentonville", "state": "AR", "postal_code": "72712"},
    }
    refused = client.post("/api/v1/dealerships", json=body, headers=specialist)
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    etag = client.get(f"/api/v1/dealerships/{lot.id}", headers=specialist).headers["ETag"]
    changed = client.patch(
        f"/api/v1/dealerships/{lot.id}", json={"name": "Renamed"}, headers={**specialist, "If-Match": etag}
    )
    assert changed.status_code == 403
    assert client.get(f"/api/v1/dealerships/{lot.id}", headers=specialist).json["name"] == lot.name


def outcome(client, headers, visit_id):
    body = {"outcome": "payment_collected", "amount_collected": "150.00", "payment_method": "card"}
    return client.post(
        f"/api/v1/visits/{visit_id}/outcome", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )


def test_a_manager_records_the_outcome_of_a_dealership_appointment_at_their_own_lot(
    client, lot, make_dealership, make_user, make_account, make_visit, login
):
    manager = login(make_user("manager", dealerships=[lot]))
    at = recent_daytime()
    appointment = make_visit(make_account(lot), at, at + timedelta(hours=1), kind="dealership_appointment")
    visit = make_visit(make_account(lot), at, at + timedelta(hours=1))
    elsewhere = make_dealership()
    other_appointment = make_visit(make_account(elsewhere), at, at + timedelta(hours=1), kind="dealership_appointment")

    recorded = outcome(client, manager, appointment.id)
    assert recorded.status_code == 201, recorded.json
    assert client.get(f"/api/v1/visits/{appointment.id}", headers=manager).json["status"] == "completed"
    assert outcome(client, manager, visit.id).status_code == 403
    assert outcome(client, manager, other_appointment.id).status_code == 404
