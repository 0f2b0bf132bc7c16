from datetime import timedelta

import pytest

from tests.timing import days_ahead, iso, local


@pytest.fixture
def headers(login, specialist):
    return login(specialist)


def book(client, headers, account, start, end, **extra):
    body = {"account_id": account.id, "window_start": iso(start), "window_end": iso(end), **extra}
    return client.post("/api/v1/visits", json=body, headers=headers)


def test_a_specialist_books_a_visit_on_the_lots_local_date(client, headers, lot, make_account, make_user, specialist):
    account = make_account(lot)
    rep = make_user("rep", dealerships=[lot])
    # 20:30 in Chicago is already the next day in UTC: the schedule date is the lot's.
    start = days_ahead(2, "20:00")
    response = book(
        client,
        headers,
        account,
        start,
        start + timedelta(minutes=45),
        assigned_rep_id=rep.id,
        priority="high",
        reason="3 weeks late",
        notes="Gate code 1234",
    )
    assert response.status_code == 201, response.json
    visit = response.json
    assert response.headers["Location"].endswith(f"/api/v1/visits/{visit['id']}")
    assert visit["scheduled_date"] == start.date().isoformat()
    assert visit["status"] == "scheduled"
    assert visit["kind"] == "personal_visit"
    assert visit["duration_minutes"] == 15
    assert visit["dealership_id"] == lot.id
    assert visit["assigned_rep_id"] == rep.id
    assert visit["booked_by"] == specialist.id
    assert visit["route_id"] is None and visit["eta"] is None
    trail = client.get(f"/api/v1/audit?entity_type=visit&entity_id={visit['id']}", headers=headers).json
    assert [e["action"] for e in trail] == ["visit.booked"]


@pytest.mark.parametrize(
    ("start", "end", "allowed"),
    [
        ("20:00", "20:59", True),
        ("20:00", "21:00", True),
        ("20:00", "21:01", False),
        ("08:00", "09:00", True),
        ("07:59", "09:00", False),
        ("21:00", "21:30", False),
    ],
)
def test_contact_hours_edges_in_the_customers_zone(client, headers, lot, make_account, start, end, allowed):
    account = make_account(lot)
    day = days_ahead(3, "00:00").date()
    response = book(client, headers, account, local(day, start), local(day, end))
    if allowed:
        assert response.status_code == 201, response.json
    else:
        assert response.status_code == 422
        assert response.json["code"] == "outside_contact_hours"
        assert response.json["rule"]["jurisdiction"] == "federal"
        assert "1692c" in response.json["rule"]["citation"]


def test_hours_are_judged_in_the_customers_zone_not_the_lots(client, headers, lot, make_account):
    los_angeles = {"line1": "200 N Spring St", "city": "Los Angeles", "state": "CA", "postal_code": "90012"}
    account = make_account(lot, address=los_angeles, latitude=34.0537, longitude=-118.2428)
    day = days_ahead(3, "00:00").date()
    # 19:00-20:00 in LA is 21:00-22:00 at the Chicago lot: fine for the customer.
    evening = book(
        client, headers, account, local(day, "19:00", "America/Los_Angeles"), local(day, "20:00", "America/Los_Angeles")
    )
    assert evening.status_code == 201, evening.json
    # 08:30 at the lot is 06:30 for the customer.
    morning = book(client, headers, account, local(day, "08:30"), local(day, "09:00"))
    assert morning.status_code == 422
    assert morning.json["code"] == "outside_contact_hours"
    assert "America/Los_Angeles" in morning.json["detail"]


def test_contact_hours_use_the_offset_of_the_day_on_dst_change_days(client, headers, lot, make_account):
    account = make_account(lot)
    # 2027-03-14: clocks spring forward in Chicago. 13:15Z is 08:15 CDT (07:15 if CST were assumed).
    spring = book(
        client, headers, account, local(local_date("2027-03-14"), "08:15"), local(local_date("2027-03-14"), "09:00")
    )
    assert spring.status_code == 201, spring.json
    assert spring.json["window_start"].startswith("2027-03-14T13:15")
    # 2027-11-07: clocks fall back. 20:45 CST is 02:45Z next day (21:45 if CDT were assumed).
    fall = book(
        client, headers, account, local(local_date("2027-11-07"), "20:00"), local(local_date("2027-11-07"), "20:45")
    )
    assert fall.status_code == 201, fall.json
    late = book(
        client, headers, account, local(local_date("2027-11-07"), "20:30"), local(local_date("2027-11-07"), "21:15")
    )
    assert late.status_code == 422


def local_date(text):
    from datetime import date

    return date.fromisoformat(text)


@pytest.mark.parametrize("restriction", ["cease_contact", "attorney_represented", "bankruptcy", "do_not_visit"])
def test_a_restricted_account_cannot_be_booked(app, client, headers, lot, make_account, restriction):
    account = make_account(lot, restrictions={restriction: True}, restriction_note="on file")
    start = days_ahead(2, "10:00")
    response = book(client, headers, account, start, start + timedelta(hours=2))
    assert response.status_code == 409
    assert response.json["code"] == "contact_restricted"
    assert response.json["restrictions"] == [restriction]
    assert client.get(f"/api/v1/visits?account_id={account.id}", headers=headers).json == []


def test_do_not_visit_still_allows_a_dealership_appointment(client, headers, lot, make_account):
    account = make_account(lot, restrictions={"do_not_visit": True}, restriction_note="dog")
    start = days_ahead(2, "10:00")
    response = book(client, headers, account, start, start + timedelta(hours=1), kind="dealership_appointment")
    assert response.status_code == 201, response.json


def test_the_fourth_visit_in_seven_days_is_refused_and_cancelled_ones_do_not_count(client, headers, lot, make_account):
    account = make_account(lot)
    starts = [days_ahead(n, "10:00") for n in (1, 3, 5)]
    ids = []
    for start in starts:
        response = book(client, headers, account, start, start + timedelta(hours=1))
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    fourth = days_ahead(6, "10:00")
    refused = book(client, headers, account, fourth, fourth + timedelta(hours=1))
    assert refused.status_code == 409
    assert refused.json["code"] == "visit_frequency_limit"
    assert refused.json["rule"]["jurisdiction"] == "federal"

    url = f"/api/v1/visits/{ids[0]}"
    etag = client.get(url, headers=headers).headers["ETag"]
    cancelled = client.patch(
        url, json={"status": "cancelled", "cancel_reason": "customer called"}, headers={**headers, "If-Match": etag}
    )
    assert cancelled.status_code == 200, cancelled.json
    assert book(client, headers, account, fourth, fourth + timedelta(hours=1)).status_code == 201


def test_the_week_is_rolling_not_a_calendar_week(client, headers, lot, make_account):
    account = make_account(lot)
    for n in (1, 2, 3):
        assert book(client, headers, account, days_ahead(n, "10:00"), days_ahead(n, "11:00")).status_code == 201
    # Day 7 shares a 7-day span with days 1-3; day 8 at the same hour is exactly 7 days after day 1.
    assert book(client, headers, account, days_ahead(7, "10:00"), days_ahead(7, "11:00")).status_code == 409
    assert book(client, headers, account, days_ahead(8, "10:00"), days_ahead(8, "11:00")).status_code == 201


def test_a_stricter_state_rule_applies_to_its_customers_and_says_so(client, headers, lot, make_account):
    boston = {"line1": "1 City Hall Sq", "city": "Boston", "state": "MA", "postal_code": "02201"}
    account = make_account(lot, address=boston, latitude=42.3603, longitude=-71.0580)
    first = days_ahead(2, "10:00", "America/New_York")
    assert book(client, headers, account, first, first + timedelta(hours=1)).status_code == 201
    second = days_ahead(20, "10:00", "America/New_York")
    response = book(client, headers, account, second, second + timedelta(hours=1))
    assert response.status_code == 409
    assert response.json["code"] == "visit_frequency_limit"
    assert response.json["rule"]["jurisdiction"] == "MA"
    assert "940 CMR" in response.json["rule"]["citation"]


@pytest.mark.parametrize(
    ("start_offset", "end_offset"),
    [
        (timedelta(hours=2), timedelta(hours=1)),
        (timedelta(hours=2), timedelta(hours=2)),
        (timedelta(hours=0), timedelta(hours=25)),
        (timedelta(days=-3), timedelta(days=-3, hours=1)),
    ],
)
def test_bad_windows_are_422_invalid_window(client, headers, lot, make_account, start_offset, end_offset):
    account = make_account(lot)
    base = days_ahead(2, "09:00")
    response = book(client, headers, account, base + start_offset, base + end_offset)
    assert response.status_code == 422
    assert response.json["code"] == "invalid_window"


def test_a_window_without_offset_is_refused(client, headers, lot, make_account):
    account = make_account(lot)
    day = days_ahead(2, "10:00").date().isoformat()
    body = {"account_id": account.id, "window_start": f"{day}T10:00:00", "window_end": f"{day}T11:00:00"}
    response = client.post("/api/v1/visits", json=body, headers=headers)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"window_start", "window_end"}


def test_the_assigned_rep_must_be_an_active_rep_of_the_accounts_lot(
    client, headers, lot, make_account, make_user, make_dealership
):
    account = make_account(lot)
    candidates = [
        make_user("rep", dealerships=[make_dealership()]),
        make_user("rep", dealerships=[lot], active=False),
        make_user("manager", dealerships=[lot]),
    ]
    start = days_ahead(2, "10:00")
    for candidate in candidates + [None]:
        rep_id = candidate.id if candidate else 987654
        response = book(client, headers, account, start, start + timedelta(hours=1), assigned_rep_id=rep_id)
        assert response.status_code == 422, response.json
        assert "assigned_rep_id" in response.json["errors"]
    assert client.get(f"/api/v1/visits?account_id={account.id}", headers=headers).json == []


def test_an_unknown_account_or_unknown_field_is_422(client, headers, lot, make_account):
    start = days_ahead(2, "10:00")
    unknown = client.post(
        "/api/v1/visits",
        json={"account_id": 99999, "window_start": iso(start), "window_end": iso(start + timedelta(hours=1))},
        headers=headers,
    )
    assert unknown.status_code == 422
    assert "account_id" in unknown.json["errors"]
    account = make_account(lot)
    extra = book(client, headers, account, start, start + timedelta(hours=1), colour="red")
    assert extra.status_code == 422
    assert "colour" in extra.json["errors"]


def test_managers_and_reps_cannot_book(client, lot, make_account, make_user, login):
    account = make_account(lot)
    start = days_ahead(2, "10:00")
    for role in ("manager", "rep"):
        response = book(client, login(make_user(role, dealerships=[lot])), account, start, start + timedelta(hours=1))
        assert response.status_code == 403


def test_visit_lists_are_scoped_and_filtered(
    client, headers, make_dealership, make_account, make_user, make_visit, login
):
    lot, other = make_dealership(), make_dealership()
    rep, colleague = make_user("rep", dealerships=[lot]), make_user("rep", dealerships=[lot])
    account, foreign_account = make_account(lot), make_account(other)
    tomorrow, later = days_ahead(1, "10:00"), days_ahead(4, "10:00")
    mine = make_visit(account, tomorrow, tomorrow + timedelta(hours=1), rep=rep)
    theirs = make_visit(account, later, later + timedelta(hours=1), rep=colleague, kind="dealership_appointment")
    foreign = make_visit(foreign_account, tomorrow, tomorrow + timedelta(hours=1))

    def ids(query, as_headers=headers):
        response = client.get(f"/api/v1/visits?{query}", headers=as_headers)
        assert response.status_code == 200, response.json
        return [v["id"] for v in response.json]

    assert ids("") == [mine.id, foreign.id, theirs.id]
    assert ids(f"date={tomorrow.date().isoformat()}&dealership_id={lot.id}") == [mine.id]
    assert ids(f"rep_id={colleague.id}") == [theirs.id]
    assert ids("kind=dealership_appointment") == [theirs.id]
    assert ids("status=cancelled") == []
    manager = login(make_user("manager", dealerships=[lot]))
    assert ids("", manager) == [mine.id, theirs.id]
    assert ids(f"dealership_id={other.id}", manager) == []
    assert client.get(f"/api/v1/visits/{foreign.id}", headers=manager).status_code == 404
    rep_headers = login(rep)
    assert ids("", rep_headers) == [mine.id]
    assert client.get(f"/api/v1/visits/{theirs.id}", headers=rep_headers).status_code == 404


def patch(client, headers, visit_id, body):
    url = f"/api/v1/visits/{visit_id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    return client.patch(url, json=body, headers={**headers, "If-Match": etag})


def test_rescheduling_applies_the_booking_rules_again(client, headers, lot, make_account, make_user):
    account = make_account(lot)
    start = days_ahead(2, "10:00")
    visit = book(client, headers, account, start, start + timedelta(hours=1)).json
    late = patch(
        client,
        headers,
        visit["id"],
        {"window_start": iso(days_ahead(2, "20:30")), "window_end": iso(days_ahead(2, "21:30"))},
    )
    assert late.status_code == 422
    assert late.json["code"] == "outside_contact_hours"
    elsewhere = make_user("rep", dealerships=[])
    wrong_rep = patch(client, headers, visit["id"], {"assigned_rep_id": elsewhere.id})
    assert wrong_rep.status_code == 422
    moved = patch(
        client,
        headers,
        visit["id"],
        {"window_start": iso(days_ahead(3, "13:00")), "window_end": iso(days_ahead(3, "15:00")), "priority": "urgent"},
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["scheduled_date"] == days_ahead(3, "13:00").date().isoformat()
    assert moved.json["priority"] == "urgent"


def test_patch_needs_if_match(client, headers, lot, make_account):
    account = make_account(lot)
    start = days_ahead(2, "10:00")
    visit = book(client, headers, account, start, start + timedelta(hours=1)).json
    response = client.patch(f"/api/v1/visits/{visit['id']}", json={"notes": "x"}, headers=headers)
    assert response.status_code == 428


def test_cancelling_needs_a_reason_and_only_cancelling_is_done_by_patch(client, headers, lot, make_account):
    account = make_account(lot)
    start = days_ahead(2, "10:00")
    visit = book(client, headers, account, start, start + timedelta(hours=1)).json
    no_reason = patch(client, headers, visit["id"], {"status": "cancelled"})
    assert no_reason.status_code == 422
    assert "cancel_reason" in no_reason.json["errors"]
    for status in ("completed", "checked_in", "missed"):
        response = patch(client, headers, visit["id"], {"status": status})
        assert response.status_code == 409, status
        assert response.json["code"] == "invalid_transition"
    done = patch(client, headers, visit["id"], {"status": "cancelled", "cancel_reason": "paid at the lot"})
    assert done.status_code == 200
    assert done.json["status"] == "cancelled"
    assert done.json["cancel_reason"] == "paid at the lot"
    again = patch(
        client,
        headers,
        visit["id"],
        {"window_start": iso(days_ahead(3, "10:00")), "window_end": iso(days_ahead(3, "11:00"))},
    )
    assert again.status_code == 409
    trail = client.get(f"/api/v1/audit?entity_type=visit&entity_id={visit['id']}", headers=headers).json
    assert [e["action"] for e in trail] == ["visit.cancelled", "visit.booked"]


def test_setting_a_restriction_on_the_account_cancels_its_open_future_visits(client, headers, lot, make_account):
    account = make_account(lot)
    start = days_ahead(2, "10:00")
    visit = book(client, headers, account, start, start + timedelta(hours=1)).json
    url = f"/api/v1/accounts/{account.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    response = client.patch(
        url,
        json={"restrictions": {"attorney_represented": True}, "restriction_note": "Letter from counsel"},
        headers={**headers, "If-Match": etag},
    )
    assert response.status_code == 200, response.json
    after = client.get(f"/api/v1/visits/{visit['id']}", headers=headers).json
    assert after["status"] == "cancelled"
    assert after["cancel_reason"] == "contact_restricted"


def test_a_visit_must_be_able_to_end_by_closing_time(client, headers, lot, make_account):
    account = make_account(lot)
    day = days_ahead(3, "00:00").date()
    too_late = book(client, headers, account, local(day, "20:50"), local(day, "21:00"))
    assert too_late.status_code == 422 and too_late.json["code"] == "outside_contact_hours"
    assert "15-minute visit" in too_late.json["detail"]
    fits = book(client, headers, account, local(day, "20:40"), local(day, "21:00"))
    assert fits.status_code == 201
    longer = patch(client, headers, fits.json["id"], {"duration_minutes": 30})
    assert longer.status_code == 422 and longer.json["code"] == "outside_contact_hours"
