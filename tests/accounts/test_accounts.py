import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from field_ops.accounts.models import Account
from field_ops.core.db import get_session
from tests.timing import days_ahead


def account_body(dealership, **overrides):
    body = {
        "account_number": "BNT-20001",
        "dealership_id": dealership.id,
        "customer_name": "Maria Lopez",
        "phone": "(479) 555-0142",
        "address": {"line1": "812 NW A St", "city": "Bentonville", "state": "AR", "postal_code": "72712"},
        "days_past_due": 12,
        "amount_due": "125.50",
        "balance": "8400.00",
    }
    body.update(overrides)
    return body


def count_accounts(app) -> int:
    with app.app_context():
        return get_session().query(Account).count()


def test_a_specialist_creates_an_account_located_by_its_zip_code(client, specialist_headers, make_dealership):
    lot = make_dealership()
    response = client.post("/api/v1/accounts", json=account_body(lot), headers=specialist_headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/accounts/{body['id']}")
    assert body["timezone"] == "America/Chicago"
    assert body["geocode_source"] == "postal_code_centroid"
    assert body["latitude"] == pytest.approx(36.36, abs=0.05)
    assert body["longitude"] == pytest.approx(-94.22, abs=0.05)
    assert body["phone"] == "+14795550142"
    assert body["amount_due"] == "125.50"
    assert body["balance"] == "8400.00"
    assert body["restrictions"] == {
        "cease_contact": False,
        "attorney_represented": False,
        "bankruptcy": False,
        "do_not_visit": False,
    }


@pytest.mark.parametrize(
    ("address", "zone"),
    [
        ({"line1": "1 Main St", "city": "Bentonville", "state": "AR", "postal_code": "72712"}, "America/Chicago"),
        ({"line1": "400 Gold Ave SW", "city": "Albuquerque", "state": "NM", "postal_code": "87102"}, "America/Denver"),
        ({"line1": "350 5th Ave", "city": "New York", "state": "NY", "postal_code": "10001"}, "America/New_York"),
    ],
)
def test_the_zip_code_gives_the_customers_time_zone(client, specialist_headers, make_dealership, address, zone):
    lot = make_dealership()
    response = client.post("/api/v1/accounts", json=account_body(lot, address=address), headers=specialist_headers)
    assert response.status_code == 201, response.json
    assert response.json["timezone"] == zone


def test_given_coordinates_without_a_zone_get_their_zone_from_the_coordinates(
    client, specialist_headers, make_dealership
):
    lot = make_dealership()
    body = account_body(
        lot,
        address={"line1": "200 N Spring St", "city": "Los Angeles", "state": "CA", "postal_code": "90012"},
        latitude=34.0537,
        longitude=-118.2428,
    )
    response = client.post("/api/v1/accounts", json=body, headers=specialist_headers)
    assert response.status_code == 201, response.json
    assert response.json["timezone"] == "America/Los_Angeles"
    assert response.json["geocode_source"] == "given"
    assert response.json["latitude"] == 34.0537


def test_a_given_zone_is_kept(client, specialist_headers, make_dealership):
    lot = make_dealership()
    body = account_body(lot, latitude=36.37, longitude=-94.21, timezone="America/Chicago")
    response = client.post("/api/v1/accounts", json=body, headers=specialist_headers)
    assert response.json["timezone"] == "America/Chicago"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"address": {"line1": "1 Main St", "city": "Nowhere", "state": "AR", "postal_code": "00000"}},
            "address.postal_code",
        ),
        (
            {"address": {"line1": "1 Main St", "city": "Bentonville", "state": "OK", "postal_code": "72712"}},
            "address.state",
        ),
        (
            {"address": {"line1": "1 Main St", "city": "Bentonville", "state": "AR", "postal_code": "7271"}},
            "address.postal_code",
        ),
        ({"latitude": 91, "longitude": -94.2}, "latitude"),
        ({"latitude": 36.3, "longitude": -181}, "longitude"),
        ({"latitude": 36.3}, "longitude"),
        ({"timezone": "Central Time"}, "timezone"),
        ({"amount_due": "-5.00"}, "amount_due"),
        ({"amount_due": "12.345"}, "amount_due"),
        ({"amount_due": 12.5}, "amount_due"),
        ({"balance": "abc"}, "balance"),
        ({"phone": "555-12"}, "phone"),
        ({"days_past_due": -1}, "days_past_due"),
        ({"days_past_due": "12"}, "days_past_due"),
        ({"nickname": "Mo"}, "nickname"),
        ({"dealership_id": 987654}, "dealership_id"),
        ({"customer_name": ""}, "customer_name"),
        ({"restrictions": {"cease_contact": True}}, "restriction_note"),
    ],
)
def test_bad_account_input_is_422_naming_the_field_and_writes_nothing(
    app, client, specialist_headers, make_dealership, overrides, field
):
    lot = make_dealership()
    response = client.post("/api/v1/accounts", json=account_body(lot, **overrides), headers=specialist_headers)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"], response.json
    assert count_accounts(app) == 0


def test_a_duplicate_account_number_is_409(client, specialist_headers, make_dealership, make_account):
    lot = make_dealership()
    make_account(lot, account_number="BNT-20001")
    for number in ("BNT-20001", "bnt-20001"):
        response = client.post(
            "/api/v1/accounts", json=account_body(lot, account_number=number), headers=specialist_headers
        )
        assert response.status_code == 409
        assert response.json["code"] == "account_number_taken"


def test_managers_and_reps_see_only_their_lots_accounts(
    client, make_user, login, make_dealership, make_account, make_visit
):
    mine, other = make_dealership(), make_dealership()
    own_account = make_account(mine)
    foreign_account = make_account(other)
    for role in ("manager", "rep"):
        user = make_user(role, dealerships=[mine])
        headers = login(user)
        if role == "rep":  # a rep reads the accounts of their own visits
            start = days_ahead(2, "10:00")
            make_visit(own_account, start, start + timedelta(hours=1), rep=user)
        listed = client.get("/api/v1/accounts", headers=headers).json
        assert [a["id"] for a in listed] == [own_account.id]
        assert client.get(f"/api/v1/accounts?dealership_id={other.id}", headers=headers).json == []
        assert client.get(f"/api/v1/accounts/{foreign_account.id}", headers=headers).status_code == 404
        assert client.get(f"/api/v1/accounts/{own_account.id}", headers=headers).status_code == 200


def test_only_admins_and_specialists_write_accounts(client, make_user, login, make_dealership, make_account):
    lot = make_dealership()
    account = make_account(lot)
    for role in ("manager", "rep"):
        headers = login(make_user(role, dealerships=[lot]))
        assert client.post("/api/v1/accounts", json=account_body(lot), headers=headers).status_code == 403
        patch = client.patch(
            f"/api/v1/accounts/{account.id}", json={"days_past_due": 1}, headers={**headers, "If-Match": '"any"'}
        )
        assert patch.status_code == 403


def test_account_filters(client, specialist_headers, make_dealership, make_account):
    lot, other = make_dealership(), make_dealership()
    young = make_account(lot, days_past_due=5, customer_name="Tyrone Walker", phone="479-555-0177")
    middle = make_account(lot, days_past_due=45, customer_name="Ana Baca")
    old = make_account(lot, days_past_due=120, account_number="BNT-77777")
    restricted = make_account(
        lot, days_past_due=61, restrictions={"bankruptcy": True}, restriction_note="Chapter 7 filed"
    )
    elsewhere = make_account(other, days_past_due=45)

    def ids(query):
        response = client.get(f"/api/v1/accounts?{query}", headers=specialist_headers)
        assert response.status_code == 200, response.json
        return [a["id"] for a in response.json]

    assert ids(f"dealership_id={lot.id}") == [young.id, middle.id, old.id, restricted.id]
    assert ids("aging_bucket=1-30") == [young.id]
    assert ids("aging_bucket=31-60") == [middle.id, elsewhere.id]
    assert ids("aging_bucket=61-90") == [restricted.id]
    assert ids("aging_bucket=91%2B") == [old.id]
    assert ids(f"days_past_due_min=40&days_past_due_max=70&dealership_id={lot.id}") == [middle.id, restricted.id]
    assert ids("restricted=true") == [restricted.id]
    assert restricted.id not in ids("restricted=false")
    assert ids("q=tyrone") == [young.id]
    assert ids("q=bnt-777") == [old.id]
    assert ids("q=555-0177") == [young.id]
    assert client.get("/api/v1/accounts?aging_bucket=0-5", headers=specialist_headers).status_code == 422


def test_changing_restrictions_needs_a_reason_and_is_audited_with_who_and_why(
    client, make_user, login, make_dealership, make_account
):
    lot = make_dealership()
    account = make_account(lot)
    specialist = make_user("specialist")
    headers = login(specialist)
    url = f"/api/v1/accounts/{account.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    no_reason = client.patch(url, json={"restrictions": {"cease_contact": True}}, headers={**headers, "If-Match": etag})
    assert no_reason.status_code == 422
    assert "restriction_note" in no_reason.json["errors"]
    assert client.get(url, headers=headers).json["restrictions"]["cease_contact"] is False

    done = client.patch(
        url,
        json={"restrictions": {"cease_contact": True}, "restriction_note": "Cease letter received 2026-11-20"},
        headers={**headers, "If-Match": etag},
    )
    assert done.status_code == 200, done.json
    assert done.json["restrictions"]["cease_contact"] is True
    trail = client.get(f"/api/v1/audit?entity_type=account&entity_id={account.id}", headers=headers).json
    entry = next(e for e in trail if e["action"] == "account.restrictions_changed")
    assert entry["actor_id"] == specialist.id
    assert entry["changes"]["cease_contact"] == [False, True]
    assert entry["changes"]["restriction_note"][1] == "Cease letter received 2026-11-20"


def test_moving_an_account_rederives_its_location(client, specialist_headers, make_dealership, make_account):
    lot = make_dealership()
    account = make_account(lot)
    url = f"/api/v1/accounts/{account.id}"
    etag = client.get(url, headers=specialist_headers).headers["ETag"]
    moved = client.patch(
        url,
        json={"address": {"line1": "400 Gold Ave SW", "city": "Albuquerque", "state": "NM", "postal_code": "87102"}},
        headers={**specialist_headers, "If-Match": etag},
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["timezone"] == "America/Denver"
    assert moved.json["geocode_source"] == "postal_code_centroid"
    assert moved.json["latitude"] == pytest.approx(35.08, abs=0.1)


class _FakeNominatim(BaseHTTPRequestHandler):
    delay = 0.0
    status = 200

    def do_GET(self):  # noqa: N802
        time.sleep(self.delay)
        payload = json.dumps([{"lat": "36.3721", "lon": "-94.2088", "display_name": "812 NW A St, Bentonville"}])
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode() if self.status == 200 else b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_geocoder(app, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeNominatim)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "GEOCODER", "nominatim")
    monkeypatch.setitem(app.config, "GEOCODER_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setitem(app.config, "GEOCODER_TIMEOUT_SECONDS", 0.5)
    yield _FakeNominatim
    _FakeNominatim.delay, _FakeNominatim.status = 0.0, 200
    server.shutdown()
    server.server_close()


def test_a_configured_geocoder_gives_street_level_coordinates(
    client, specialist_headers, make_dealership, local_geocoder
):
    lot = make_dealership()
    response = client.post("/api/v1/accounts", json=account_body(lot), headers=specialist_headers)
    assert response.status_code == 201, response.json
    assert response.json["geocode_source"] == "geocoder"
    assert (response.json["latitude"], response.json["longitude"]) == (36.3721, -94.2088)
    assert response.json["timezone"] == "America/Chicago"


@pytest.mark.parametrize(("delay", "status"), [(1.0, 200), (0.0, 500)])
def test_a_slow_or_failing_geocoder_falls_back_to_the_zip_centroid(
    client, specialist_headers, make_dealership, local_geocoder, delay, status
):
    local_geocoder.delay, local_geocoder.status = delay, status
    lot = make_dealership()
    response = client.post("/api/v1/accounts", json=account_body(lot), headers=specialist_headers)
    assert response.status_code == 201, response.json
    assert response.json["geocode_source"] == "postal_code_centroid"
    assert response.json["timezone"] == "America/Chicago"


def test_a_search_for_a_percent_or_an_underscore_finds_only_accounts_that_contain_one(
    client, specialist_headers, make_dealership, make_account
):
    lot = make_dealership()
    make_account(lot, customer_name="Ana Baca")
    make_account(lot, customer_name="Bo Diaz")
    odd = make_account(lot, customer_name="Cy 100% Evans", account_number="X_1")

    def ids(term):
        response = client.get("/api/v1/accounts", query_string={"q": term}, headers=specialist_headers)
        assert response.status_code == 200, response.json
        return [a["id"] for a in response.json]

    assert ids("%") == [odd.id]
    assert ids("_") == [odd.id]
    assert ids("x_1") == [odd.id]
