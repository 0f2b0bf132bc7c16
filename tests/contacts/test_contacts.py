from datetime import timedelta

import pytest

from tests.closing import record_outcome, visit_today
from tests.timing import days_ahead, iso, recent_daytime


@pytest.fixture
def headers(login, specialist):
    return login(specialist)


@pytest.fixture
def account(make_account, lot):
    return make_account(lot)


def log_contact(client, headers, account, **fields):
    body = {
        "channel": "call",
        "direction": "inbound",
        "at": iso(recent_daytime() - timedelta(hours=1)),
        "summary": "Customer called about the late payment",
        "resolution": "resolved_by_office",
        **fields,
    }
    return client.post(f"/api/v1/accounts/{account.id}/contacts", json=body, headers=headers)


def contacts_of(client, headers, account):
    return client.get(f"/api/v1/accounts/{account.id}/contacts", headers=headers).json


def skip_trace_of(client, headers, make_visit, account):
    """A follow-up on the account's queue, raised as in the field: the customer moved."""
    record_outcome(client, headers, visit_today(make_visit, account), outcome="customer_moved")
    [item] = client.get(f"/api/v1/follow-ups?account_id={account.id}", headers=headers).json
    return item["id"]


def test_a_specialist_logs_a_call_that_booked_a_pv_and_links_the_visit(
    client, headers, specialist, account, make_visit, lot
):
    follow_up_id = skip_trace_of(client, headers, make_visit, account)
    visit = make_visit(account, days_ahead(2, "09:00"), days_ahead(2, "12:00"))
    response = log_contact(
        client, headers, account, resolution="pv_booked", visit_id=visit.id, follow_up_id=follow_up_id
    )
    assert response.status_code == 201, response.json
    contact = response.json
    assert response.headers["Location"].endswith(f"/api/v1/contacts/{contact['id']}")
    assert contact["account_id"] == account.id and contact["dealership_id"] == lot.id
    assert contact["visit_id"] == visit.id and contact["follow_up_id"] == follow_up_id
    assert contact["recorded_by"] == specialist.id and contact["resolution"] == "pv_booked"
    assert client.get(f"/api/v1/contacts/{contact['id']}", headers=headers).json == contact
    trail = client.get(f"/api/v1/audit?entity_type=contact&entity_id={contact['id']}", headers=headers).json
    assert [entry["action"] for entry in trail] == ["contact.recorded"]


def test_an_outbound_contact_obeys_the_restrictions_but_an_inbound_one_is_always_recorded(
    client, headers, make_account, lot
):
    restricted = make_account(lot, restrictions={"cease_contact": True}, restriction_note="Letter of 2026-10-01")
    refused = log_contact(client, headers, restricted, direction="outbound", channel="text")
    assert refused.status_code == 409
    assert refused.json["code"] == "contact_restricted"
    assert log_contact(client, headers, restricted, direction="inbound").status_code == 201
    assert len(contacts_of(client, headers, restricted)) == 1


def test_do_not_visit_bars_talking_at_the_door_but_not_a_call(client, headers, make_account, lot):
    no_visits = make_account(lot, restrictions={"do_not_visit": True}, restriction_note="Dog at the address")
    assert log_contact(client, headers, no_visits, direction="outbound", channel="call").status_code == 201
    at_the_door = log_contact(client, headers, no_visits, direction="outbound", channel="in_person")
    assert at_the_door.status_code == 409 and at_the_door.json["code"] == "contact_restricted"


def test_an_outbound_contact_keeps_the_contact_hours_in_the_customers_zone(client, headers, account):
    night = (recent_daytime() - timedelta(days=1)).replace(hour=22, minute=30)
    refused = log_contact(client, headers, account, direction="outbound", at=iso(night))
    assert refused.status_code == 422
    assert refused.json["code"] == "outside_contact_hours"
    assert log_contact(client, headers, account, direction="inbound", at=iso(night)).status_code == 201
    assert len(contacts_of(client, headers, account)) == 1


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"at": "FUTURE"}, "validation_error", "at"),
        ({"at": "2026-11-30T10:00:00"}, "validation_error", "at"),
        ({"resolution": "pv_booked"}, "visit_required", "visit_id"),
        ({"resolution": "appointment_set"}, "visit_required", "visit_id"),
        ({"resolution": "pv_booked", "visit_id": "OTHER"}, "visit_mismatch", "visit_id"),
        ({"resolution": "appointment_set", "visit_id": "PV"}, "visit_mismatch", "visit_id"),
        ({"resolution": "no_resolution", "visit_id": 999999}, "visit_mismatch", "visit_id"),
        ({"channel": "fax"}, "validation_error", "channel"),
    ],
)
def test_bad_contacts_are_422_and_write_nothing(
    client, headers, account, make_account, make_visit, lot, fields, code, field
):
    other = make_account(lot)
    own_pv = make_visit(account, days_ahead(2, "09:00"), days_ahead(2, "12:00"))
    others_pv = make_visit(other, days_ahead(2, "09:00"), days_ahead(2, "12:00"))
    replacements = {"FUTURE": iso(days_ahead(1, "10:00")), "OTHER": others_pv.id, "PV": own_pv.id}
    fields = {key: replacements.get(value, value) for key, value in fields.items()}
    response = log_contact(client, headers, account, **fields)
    assert response.status_code == 422
    assert response.json["code"] == code
    assert field in response.json["errors"]
    assert contacts_of(client, headers, account) == []


def test_a_contact_names_only_a_follow_up_of_its_own_account(
    client, headers, account, make_account, make_dealership, make_visit, lot
):
    neighbour = make_account(lot)
    elsewhere = make_account(make_dealership())
    own = skip_trace_of(client, headers, make_visit, account)
    neighbours = skip_trace_of(client, headers, make_visit, neighbour)
    other_lots = skip_trace_of(client, headers, make_visit, elsewhere)
    for follow_up_id in (neighbours, other_lots, 999999):
        refused = log_contact(client, headers, account, follow_up_id=follow_up_id)
        assert refused.status_code == 422, refused.json
        assert refused.json["code"] == "follow_up_mismatch"
        assert "follow_up_id" in refused.json["errors"]
    assert contacts_of(client, headers, account) == []
    assert log_contact(client, headers, account, follow_up_id=own).status_code == 201


def test_an_appointment_set_names_the_dealership_appointment(client, headers, account, make_visit):
    appointment = make_visit(account, days_ahead(2, "09:00"), days_ahead(2, "12:00"), kind="dealership_appointment")
    response = log_contact(client, headers, account, resolution="appointment_set", visit_id=appointment.id)
    assert response.status_code == 201, response.json


def test_the_lots_manager_reads_their_lots_contacts_and_nothing_else(
    client, headers, login, make_user, make_dealership, make_account, lot, account
):
    other_lot = make_dealership()
    elsewhere = make_account(other_lot)
    ours = log_contact(client, headers, account, channel="text", resolution="escalated_to_dealership").json
    log_contact(client, headers, account, channel="call", resolution="payment_arranged")
    theirs = log_contact(client, headers, elsewhere).json
    manager = login(make_user("manager", dealerships=[lot]))

    listed = client.get("/api/v1/contacts", headers=manager)
    assert listed.status_code == 200
    assert {c["dealership_id"] for c in listed.json} == {lot.id} and len(listed.json) == 2
    assert client.get(f"/api/v1/contacts?dealership_id={other_lot.id}", headers=manager).json == []
    escalated = client.get("/api/v1/contacts?resolution=escalated_to_dealership&channel=text", headers=manager).json
    assert [c["id"] for c in escalated] == [ours["id"]]
    assert client.get(f"/api/v1/contacts/{theirs['id']}", headers=manager).status_code == 404
    assert client.get(f"/api/v1/accounts/{elsewhere.id}/contacts", headers=manager).status_code == 404
    assert log_contact(client, manager, account).status_code == 403
    assert len(client.get("/api/v1/contacts", headers=headers).json) == 3
    rep = login(make_user("rep", dealerships=[lot]))
    assert client.get("/api/v1/contacts", headers=rep).status_code == 403


def test_contacts_are_listed_newest_first_and_filtered_by_time(client, headers, account):
    at = recent_daytime()
    for hours in (5, 3, 1):
        log_contact(client, headers, account, at=iso(at - timedelta(hours=hours)))
    listed = contacts_of(client, headers, account)
    assert [c["at"] for c in listed] == sorted((c["at"] for c in listed), reverse=True)
    since = iso(at - timedelta(hours=4))
    until = iso(at - timedelta(hours=2))
    window = client.get(
        f"/api/v1/contacts?since={since.replace('+', '%2B')}&until={until.replace('+', '%2B')}", headers=headers
    ).json
    assert len(window) == 1
