import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from field_ops.core.db import get_session
from field_ops.visits.models import Outcome
from tests.concurrency import at_once
from tests.timing import days_ahead, iso, local_today, recent_daytime

HOME = (36.37, -94.21)


@pytest.fixture
def rep(make_user, lot):
    return make_user("rep", dealerships=[lot])


@pytest.fixture
def rep_headers(login, rep):
    return login(rep)


@pytest.fixture
def account(make_account, lot):
    return make_account(lot, latitude=HOME[0], longitude=HOME[1])


@pytest.fixture
def visit(make_visit, account, rep):
    at = recent_daytime()
    return make_visit(account, at - timedelta(hours=1), at + timedelta(hours=1), rep=rep)


def check_in(client, headers, visit_id, latitude=HOME[0], longitude=HOME[1], at=None, **extra):
    body = {
        "latitude": latitude,
        "longitude": longitude,
        "accuracy_m": 8,
        "recorded_at": iso(at or recent_daytime()),
        **extra,
    }
    return client.post(f"/api/v1/visits/{visit_id}/check-in", json=body, headers=headers)


def post_outcome(client, headers, visit_id, body, key="key-1"):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/visits/{visit_id}/outcome", json=body, headers={**headers, **extra})


def outcome_count(app, visit_id):
    with app.app_context():
        return get_session().query(Outcome).filter_by(visit_id=visit_id).count()


def test_the_assigned_rep_checks_in_at_the_door(client, rep_headers, visit):
    response = check_in(client, rep_headers, visit.id, 36.3710, -94.2100)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "checked_in"
    assert body["distance_m"] == pytest.approx(111, abs=3)
    assert body["on_site"] is True
    assert body["in_window"] is True
    assert body["checked_in_at"] == iso(recent_daytime().astimezone(UTC))


def test_a_check_in_far_away_or_outside_the_window_is_kept_and_flagged(client, rep_headers, make_visit, account, rep):
    later = recent_daytime() + timedelta(days=1)
    early_visit = make_visit(account, later, later + timedelta(hours=2), rep=rep)
    response = check_in(client, rep_headers, early_visit.id, 36.40, -94.21)
    assert response.status_code == 200
    assert response.json["on_site"] is False
    assert response.json["distance_m"] == pytest.approx(3330, rel=0.01)
    assert response.json["in_window"] is False


def test_only_the_assigned_rep_or_the_office_checks_in(client, login, make_user, lot, make_dealership, visit):
    colleague = login(make_user("rep", dealerships=[lot]))
    stranger = login(make_user("rep", dealerships=[make_dealership()]))
    manager = login(make_user("manager", dealerships=[lot]))
    assert check_in(client, colleague, visit.id).json["code"] == "not_assigned_rep"
    assert check_in(client, colleague, visit.id).status_code == 403
    assert check_in(client, stranger, visit.id).status_code == 404
    assert check_in(client, manager, visit.id).status_code == 403
    on_behalf = check_in(client, login(make_user("specialist")), visit.id)
    assert on_behalf.status_code == 200


def test_check_in_on_a_cancelled_or_already_checked_in_visit_is_409(
    client, rep_headers, make_visit, account, rep, visit
):
    at = recent_daytime()
    cancelled = make_visit(account, at, at + timedelta(hours=1), rep=rep, status="cancelled", cancel_reason="x")
    response = check_in(client, rep_headers, cancelled.id)
    assert response.status_code == 409
    assert response.json["code"] == "invalid_transition"
    assert check_in(client, rep_headers, visit.id).status_code == 200
    assert check_in(client, rep_headers, visit.id).json["code"] == "invalid_transition"


def test_check_in_applies_the_guardrails_again(app, client, rep_headers, make_account, make_visit, lot, rep):
    restricted = make_account(lot, restrictions={"cease_contact": True}, restriction_note="letter")
    at = recent_daytime()
    blocked = make_visit(restricted, at, at + timedelta(hours=1), rep=rep)
    response = check_in(client, rep_headers, blocked.id)
    assert response.status_code == 409
    assert response.json["code"] == "contact_restricted"

    account = make_account(lot)
    late_visit = make_visit(account, at, at + timedelta(hours=1), rep=rep)
    night = recent_daytime().replace(hour=22, minute=30) - timedelta(days=1)
    response = check_in(client, rep_headers, late_visit.id, at=night)
    assert response.status_code == 422
    assert response.json["code"] == "outside_contact_hours"
    assert client.get(f"/api/v1/visits/{late_visit.id}", headers=rep_headers).json["status"] == "scheduled"


def test_recorded_at_must_carry_an_offset_and_not_be_in_the_future(client, rep_headers, visit):
    future = datetime.now(UTC) + timedelta(minutes=30)
    assert check_in(client, rep_headers, visit.id, at=future).status_code == 422
    naive = {"latitude": 1, "longitude": 1, "recorded_at": "2026-01-01T10:00:00"}
    response = client.post(f"/api/v1/visits/{visit.id}/check-in", json=naive, headers=rep_headers)
    assert response.status_code == 422
    assert "recorded_at" in response.json["errors"]


def test_a_personal_visit_must_be_checked_in_before_its_outcome(client, rep_headers, visit):
    response = post_outcome(client, rep_headers, visit.id, {"outcome": "not_home"})
    assert response.status_code == 409
    assert response.json["code"] == "invalid_transition"


def test_a_dealership_appointment_completes_straight_from_scheduled(client, rep_headers, make_visit, account, rep):
    at = recent_daytime()
    appointment = make_visit(account, at, at + timedelta(hours=1), rep=rep, kind="dealership_appointment")
    response = post_outcome(
        client,
        rep_headers,
        appointment.id,
        {"outcome": "payment_collected", "amount_collected": "200.00", "payment_method": "card"},
    )
    assert response.status_code == 201, response.json
    assert client.get(f"/api/v1/visits/{appointment.id}", headers=rep_headers).json["status"] == "completed"


def test_an_outcome_needs_an_idempotency_key(client, rep_headers, visit):
    check_in(client, rep_headers, visit.id)
    response = post_outcome(client, rep_headers, visit.id, {"outcome": "not_home"}, key=None)
    assert response.status_code == 428
    assert response.json["code"] == "idempotency_key_required"


def test_a_retried_outcome_returns_the_same_answer_and_records_once(app, client, rep_headers, rep, visit):
    check_in(client, rep_headers, visit.id)
    body = {
        "outcome": "payment_collected",
        "amount_collected": "150.00",
        "payment_method": "cash",
        "notes": "Paid at the door",
    }
    first = post_outcome(client, rep_headers, visit.id, body)
    assert first.status_code == 201, first.json
    assert first.headers["Location"] == f"/api/v1/visits/{visit.id}/outcome"
    assert first.json["recorded_by"] == rep.id
    assert first.json["amount_collected"] == "150.00"
    reordered = dict(reversed(list(body.items())))
    again = post_outcome(client, rep_headers, visit.id, reordered)
    assert again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert outcome_count(app, visit.id) == 1

    other_body = post_outcome(client, rep_headers, visit.id, {**body, "amount_collected": "15.00"})
    assert other_body.status_code == 422
    assert other_body.json["code"] == "idempotency_key_reused"
    new_key = post_outcome(client, rep_headers, visit.id, body, key="key-2")
    assert new_key.status_code == 409
    assert new_key.json["code"] == "outcome_already_recorded"
    assert outcome_count(app, visit.id) == 1


def test_idempotency_keys_are_scoped_to_the_user(
    client, login, make_user, rep_headers, make_visit, account, rep, visit
):
    at = recent_daytime()
    second = make_visit(account, at, at + timedelta(hours=1), rep=rep)
    check_in(client, rep_headers, visit.id)
    check_in(client, rep_headers, second.id)
    assert post_outcome(client, rep_headers, visit.id, {"outcome": "not_home"}, key="shared").status_code == 201
    specialist = login(make_user("specialist"))
    assert post_outcome(client, specialist, second.id, {"outcome": "refused"}, key="shared").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcome": "payment_collected"}, "amount_collected"),
        ({"outcome": "payment_collected", "amount_collected": "0.00"}, "amount_collected"),
        ({"outcome": "payment_collected", "amount_collected": "10.005"}, "amount_collected"),
        ({"outcome": "payment_collected", "amount_collected": 10}, "amount_collected"),
        (
            {"outcome": "promise_to_pay", "promise_amount": "50.00", "promise_date": local_today().isoformat()},
            "promise_date",
        ),
        (
            {"outcome": "promise_to_pay", "promise_date": (local_today() + timedelta(days=3)).isoformat()},
            "promise_amount",
        ),
        ({"outcome": "gone_fishing"}, "outcome"),
        ({"outcome": "not_home", "recorded_at": "2026-01-01T10:00:00"}, "recorded_at"),
    ],
)
def test_outcome_field_rules_are_422_and_record_nothing(app, client, rep_headers, visit, body, field):
    check_in(client, rep_headers, visit.id)
    response = post_outcome(client, rep_headers, visit.id, body, key=str(uuid.uuid4()))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert outcome_count(app, visit.id) == 0


def test_a_promise_to_pay_with_a_future_date_is_recorded(client, rep_headers, visit):
    check_in(client, rep_headers, visit.id)
    promise_date = (local_today() + timedelta(days=5)).isoformat()
    body = {"outcome": "promise_to_pay", "promise_date": promise_date, "promise_amount": "300.00"}
    response = post_outcome(client, rep_headers, visit.id, body)
    assert response.status_code == 201, response.json
    assert response.json["promise_date"] == promise_date
    assert response.json["promise_amount"] == "300.00"


@pytest.mark.parametrize(("code", "restriction"), [("bankruptcy_claimed", "bankruptcy"), ("dispute", "cease_contact")])
def test_a_bankruptcy_or_dispute_restricts_the_account_and_cancels_its_future_visits(
    client, rep_headers, make_user, login, make_visit, account, rep, visit, code, restriction
):
    upcoming = days_ahead(3, "10:00")
    future_visit = make_visit(account, upcoming, upcoming + timedelta(hours=1), rep=rep)
    check_in(client, rep_headers, visit.id)
    response = post_outcome(client, rep_headers, visit.id, {"outcome": code, "notes": "Customer said so"})
    assert response.status_code == 201, response.json
    office = login(make_user("specialist"))
    refreshed = client.get(f"/api/v1/accounts/{account.id}", headers=office).json
    assert refreshed["restrictions"][restriction] is True
    cancelled = client.get(f"/api/v1/visits/{future_visit.id}", headers=office).json
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "contact_restricted"
    trail = client.get(f"/api/v1/audit?entity_type=account&entity_id={account.id}", headers=office).json
    assert any(e["action"] == "account.restrictions_changed" and e["actor_id"] == rep.id for e in trail)


@pytest.mark.real_commits
def test_two_identical_requests_arriving_at_once_record_one_outcome(app, rep_headers, visit):
    app.test_client().post(
        f"/api/v1/visits/{visit.id}/check-in",
        json={"latitude": HOME[0], "longitude": HOME[1], "recorded_at": iso(recent_daytime())},
        headers=rep_headers,
    )
    body = {"outcome": "payment_collected", "amount_collected": "99.99", "payment_method": "cash"}
    headers = {**rep_headers, "Idempotency-Key": "flaky-line"}
    responses = at_once(app, 4, lambda c, _: c.post(f"/api/v1/visits/{visit.id}/outcome", json=body, headers=headers))
    answers = [(response.status_code, response.get_data()) for response in responses]
    assert len(answers) == 4
    assert {status for status, _ in answers} == {201}
    assert len({data for _, data in answers}) == 1
    assert outcome_count(app, visit.id) == 1


def test_a_batch_from_a_phone_back_online_keeps_the_good_items(
    app, client, rep_headers, make_visit, account, rep, visit
):
    at = recent_daytime()
    others = [make_visit(account, at, at + timedelta(hours=1), rep=rep) for _ in range(3)]
    for v in (visit, *others):
        assert check_in(client, rep_headers, v.id).status_code == 200
    already = post_outcome(client, rep_headers, others[2].id, {"outcome": "not_home"}, key="sent-before")
    items = [
        {"visit_id": visit.id, "idempotency_key": "b-1", "outcome": "payment_collected", "amount_collected": "40.00"},
        {"visit_id": others[0].id, "idempotency_key": "b-2", "outcome": "payment_collected"},
        {"visit_id": others[1].id, "outcome": "refused"},
        {"visit_id": others[2].id, "idempotency_key": "sent-before", "outcome": "not_home"},
        {"visit_id": 999999, "idempotency_key": "b-5", "outcome": "not_home"},
    ]
    response = client.post("/api/v1/visits/outcomes:batch", json={"items": items}, headers=rep_headers)
    assert response.status_code == 207, response.json
    results = response.json["results"]
    assert [r["visit_id"] for r in results] == [i["visit_id"] for i in items]
    assert [r["status"] for r in results] == [201, 422, 428, 201, 404]
    assert results[0]["body"]["amount_collected"] == "40.00"
    assert "amount_collected" in results[1]["body"]["errors"]
    assert results[2]["body"]["code"] == "idempotency_key_required"
    assert results[3]["body"] == json.loads(already.get_data())
    assert results[4]["body"]["code"] == "not_found"
    assert outcome_count(app, visit.id) == 1
    assert outcome_count(app, others[0].id) == 0

    replay = client.post("/api/v1/visits/outcomes:batch", json={"items": items[:1]}, headers=rep_headers)
    assert replay.json["results"][0]["body"] == results[0]["body"]
    assert outcome_count(app, visit.id) == 1


def test_a_batch_is_limited_to_100_items(client, rep_headers):
    items = [{"visit_id": 1, "idempotency_key": f"k{n}", "outcome": "not_home"} for n in range(101)]
    response = client.post("/api/v1/visits/outcomes:batch", json={"items": items}, headers=rep_headers)
    assert response.status_code == 422
    assert "items" in response.json["errors"]


def test_a_batch_item_with_an_absurd_visit_id_is_refused_alone_and_the_rest_kept(app, client, rep_headers, visit):
    assert check_in(client, rep_headers, visit.id).status_code == 200
    items = [
        {"visit_id": visit.id, "idempotency_key": "ok-1", "outcome": "not_home"},
        {"visit_id": 10**20, "idempotency_key": "huge", "outcome": "not_home"},
    ]
    response = client.post("/api/v1/visits/outcomes:batch", json={"items": items}, headers=rep_headers)
    assert response.status_code == 207, response.get_data(as_text=True)
    assert [r["status"] for r in response.json["results"]] == [201, 422]
    assert response.json["results"][1]["visit_id"] == 10**20
    assert outcome_count(app, visit.id) == 1
