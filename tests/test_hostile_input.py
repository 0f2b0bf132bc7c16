"""Input a flaky phone, a messy spreadsheet or a hostile client sends: a clear 4xx, never a 500."""

from datetime import timedelta

from tests.timing import days_ahead, iso, recent_daytime


def test_ids_beyond_the_database_range_are_not_found_or_refused(client, office, make_dealership, make_account):
    lot = make_dealership()
    make_account(lot)
    assert client.get("/api/v1/visits/2147483648", headers=office).status_code == 404
    assert client.get("/api/v1/accounts/99999999999999999999", headers=office).status_code == 404
    query = client.get("/api/v1/visits?account_id=2147483648", headers=office)
    assert query.status_code == 422 and "account_id" in query.json["errors"]
    start = days_ahead(2, "10:00")
    body = {"account_id": 2**63, "window_start": iso(start), "window_end": iso(start + timedelta(hours=1))}
    created = client.post("/api/v1/visits", json=body, headers=office)
    assert created.status_code == 422 and "account_id" in created.json["errors"]
    page = client.get("/api/v1/accounts?page=99999999999999999999", headers=office)
    assert page.status_code == 422
    assert page.content_type == "application/problem+json"


def test_nul_bytes_and_blank_text_are_refused(client, office, make_dealership):
    lot = make_dealership()
    login = client.post("/api/v1/auth/token", json={"email": "a\u0000@x.com", "password": "x"})
    assert login.status_code == 422
    address = {"line1": "1 Main St", "city": "Bentonville", "state": "AR", "postal_code": "72712"}
    blank = client.post(
        "/api/v1/accounts",
        json={"account_number": "   ", "dealership_id": lot.id, "customer_name": "A", "address": address},
        headers=office,
    )
    assert blank.status_code == 422 and "account_number" in blank.json["errors"]
    search = client.get("/api/v1/accounts?q=%00", headers=office)
    assert search.status_code == 422


def test_timestamps_outside_the_calendar_are_422(client, office, make_dealership, make_account):
    account = make_account(make_dealership())
    body = {
        "account_id": account.id,
        "window_start": "0001-01-01T00:00:00+05:00",
        "window_end": "9999-12-31T20:00:00-05:00",
    }
    response = client.post("/api/v1/visits", json=body, headers=office)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"window_start", "window_end"}


def test_absurdly_nested_json_is_a_400(client, office, make_dealership, make_account):
    body = "[" * 100000 + "]" * 100000
    response = client.post("/api/v1/visits", data=body, content_type="application/json", headers=office)
    assert response.status_code == 400
    assert response.json["code"] == "malformed_json"


def test_a_poisoned_item_does_not_block_a_phones_queue(
    client, login, make_user, make_dealership, make_account, make_visit
):
    lot = make_dealership()
    rep = make_user("rep", dealerships=[lot])
    headers = login(rep)
    at = recent_daytime()
    visit = make_visit(
        make_account(lot), at - timedelta(hours=1), at + timedelta(hours=1), rep=rep, kind="dealership_appointment"
    )
    items = [
        {"visit_id": 2147483648, "idempotency_key": "x1", "outcome": "other"},
        {"visit_id": visit.id, "idempotency_key": "x\u00002", "outcome": "other"},
        {"visit_id": visit.id, "idempotency_key": "x3", "outcome": "not_home"},
    ]
    response = client.post("/api/v1/visits/outcomes:batch", json={"items": items}, headers=headers)
    assert response.status_code == 207
    assert [r["status"] for r in response.json["results"]] == [422, 422, 201]


def test_zone_names_must_be_real_area_location_zones(client, office, make_dealership):
    lot = make_dealership()
    address = {"line1": "1 Main St", "city": "Bentonville", "state": "AR", "postal_code": "72712"}
    for zone in ("localtime", "Factory", "Etc/GMT+6", "UTC"):
        body = {
            "account_number": f"Z-{zone}",
            "dealership_id": lot.id,
            "customer_name": "A",
            "address": address,
            "timezone": zone,
        }
        response = client.post("/api/v1/accounts", json=body, headers=office)
        assert response.status_code == 422, zone
        assert "timezone" in response.json["errors"]


def test_coordinates_far_from_the_zip_code_are_refused(client, office, make_dealership):
    lot = make_dealership()
    address = {"line1": "1 Main St", "city": "Rogers", "state": "AR", "postal_code": "72756"}
    for latitude, longitude in ((51.5, -0.12), (36.33, 94.12)):
        body = {
            "account_number": f"F-{longitude}",
            "dealership_id": lot.id,
            "customer_name": "A",
            "address": address,
            "latitude": latitude,
            "longitude": longitude,
        }
        response = client.post("/api/v1/accounts", json=body, headers=office)
        assert response.status_code == 422
        assert "latitude" in response.json["errors"]


def test_an_account_with_open_visits_cannot_change_lot(client, office, make_dealership, make_account, make_visit):
    lot, other = make_dealership(), make_dealership()
    account = make_account(lot)
    start = days_ahead(2, "10:00")
    make_visit(account, start, start + timedelta(hours=1))
    url = f"/api/v1/accounts/{account.id}"
    etag = client.get(url, headers=office).headers["ETag"]
    response = client.patch(url, json={"dealership_id": other.id}, headers={**office, "If-Match": etag})
    assert response.status_code == 409
    assert response.json["code"] == "account_has_open_visits"


def test_do_not_visit_cancels_home_visits_but_keeps_appointments_at_the_lot(
    client, office, make_dealership, make_account, make_visit
):
    lot = make_dealership()
    account = make_account(lot)
    start = days_ahead(2, "10:00")
    home = make_visit(account, start, start + timedelta(hours=1))
    at_lot = make_visit(
        account, start + timedelta(days=1), start + timedelta(days=1, hours=1), kind="dealership_appointment"
    )
    url = f"/api/v1/accounts/{account.id}"
    etag = client.get(url, headers=office).headers["ETag"]
    response = client.patch(
        url,
        json={"restrictions": {"do_not_visit": True}, "restriction_note": "Dog at the door"},
        headers={**office, "If-Match": etag},
    )
    assert response.status_code == 200
    assert client.get(f"/api/v1/visits/{home.id}", headers=office).json["status"] == "cancelled"
    assert client.get(f"/api/v1/visits/{at_lot.id}", headers=office).json["status"] == "scheduled"
    trail = client.get(f"/api/v1/audit?entity_type=account&entity_id={account.id}", headers=office).json
    entry = next(e for e in trail if e["action"] == "account.restrictions_changed")
    assert entry["changes"]["restriction_note"] == [None, "Dog at the door"]


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client, make_user, login):
    admin = make_user("admin")
    headers = login(admin)
    url = f"/api/v1/users/{admin.id}"
    for change in ({"role": "rep"}, {"active": False}):
        etag = client.get(url, headers=headers).headers["ETag"]
        response = client.patch(url, json=change, headers={**headers, "If-Match": etag})
        assert response.status_code == 409
        assert response.json["code"] == "last_admin"
    make_user("admin")
    etag = client.get(url, headers=headers).headers["ETag"]
    assert client.patch(url, json={"role": "specialist"}, headers={**headers, "If-Match": etag}).status_code == 200
