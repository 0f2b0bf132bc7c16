from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from field_ops.core.db import get_session, transaction
from field_ops.visits.models import Outcome, Visit
from tests.timing import days_ahead, local, local_today


@pytest.fixture
def headers(login, specialist):
    return login(specialist)


def campaign_body(lot, first=2, last=3, **fields):
    today = local_today()
    return {
        "dealership_id": lot.id,
        "name": "Late fall push",
        "segment": {"buckets": ["31-60", "61-90", "91+"]},
        "from": (today + timedelta(days=first)).isoformat(),
        "to": (today + timedelta(days=last)).isoformat(),
        "window_start": "09:00",
        "window_end": "17:00",
        "max_visits_per_day": 10,
        "priority": "high",
        **fields,
    }


def visit_count(app):
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(Visit))


def test_a_specialist_books_a_campaign_and_follows_its_progress(app, client, headers, specialist, lot, make_account):
    accounts = [make_account(lot, days_past_due=dpd, amount_due=Decimal("400.00")) for dpd in (45, 75, 120)]
    make_account(lot, days_past_due=10)  # 1-30: not in the segment
    response = client.post("/api/v1/campaigns", json=campaign_body(lot), headers=headers)
    assert response.status_code == 201, response.json
    campaign = response.json
    assert response.headers["Location"].endswith(f"/api/v1/campaigns/{campaign['id']}")
    assert campaign["status"] == "scheduled" and campaign["dealership_id"] == lot.id
    # Most overdue first.
    assert [r["account_id"] for r in campaign["results"]] == [a.id for a in reversed(accounts)]
    assert {r["status"] for r in campaign["results"]} == {"booked"}
    assert campaign["progress"]["booked"] == 3

    visit = client.get(f"/api/v1/visits/{campaign['results'][0]['visit_id']}", headers=headers).json
    assert visit["kind"] == "personal_visit" and visit["priority"] == "high"
    assert visit["reason"] == "Campaign: Late fall push" and visit["booked_by"] == specialist.id
    assert visit["scheduled_date"] == campaign["results"][0]["date"]
    with app.app_context(), transaction() as session:
        done = session.get(Visit, visit["id"])
        done.status = "completed"
        session.add(
            Outcome(
                visit_id=done.id,
                outcome="payment_collected",
                amount_collected=Decimal("80.00"),
                recorded_at=done.window_start,
                recorded_by=specialist.id,
            )
        )
    again = client.get(f"/api/v1/campaigns/{campaign['id']}", headers=headers)
    assert again.status_code == 200 and "ETag" in again.headers
    assert again.json["progress"] == {
        "booked": 3,
        "completed": 1,
        "missed": 0,
        "cancelled": 0,
        "collected_amount": "80.00",
        "promises_made": 0,
    }
    listed = client.get(f"/api/v1/campaigns?dealership_id={lot.id}", headers=headers).json
    assert [c["id"] for c in listed] == [campaign["id"]] and "results" not in listed[0]
    assert listed[0]["progress"]["collected_amount"] == "80.00"
    trail = client.get(f"/api/v1/audit?entity_type=campaign&entity_id={campaign['id']}", headers=headers).json
    assert [e["action"] for e in trail] == ["campaign.created"]


def test_a_campaign_is_spread_so_no_lot_day_exceeds_the_cap(client, headers, lot, make_account):
    for n in range(5):
        make_account(lot, days_past_due=40 + n)
    body = campaign_body(lot, first=2, last=4, max_visits_per_day=2)
    response = client.post("/api/v1/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.json
    per_day = {}
    for result in response.json["results"]:
        per_day[result["date"]] = per_day.get(result["date"], 0) + 1
    assert sorted(per_day.values()) == [1, 2, 2]


@pytest.fixture
def guardrails(lot, make_account, make_visit):
    """One account per guardrail, and the campaign's first day already at its cap."""
    first = local_today() + timedelta(days=2)
    for _ in range(2):
        busy = make_account(lot, days_past_due=0)
        make_visit(busy, local(first, "10:00"), local(first, "11:00"))
    restricted = make_account(
        lot, days_past_due=100, restrictions={"cease_contact": True}, restriction_note="Cease letter on file"
    )
    at_limit = make_account(lot, days_past_due=90)
    for n in (4, 5, 6):
        make_visit(at_limit, days_ahead(n, "10:00"), days_ahead(n, "11:00"))
    boston = {"line1": "1 City Hall Sq", "city": "Boston", "state": "MA", "postal_code": "02201"}
    in_massachusetts = make_account(lot, days_past_due=80, address=boston, latitude=42.3603, longitude=-71.058)
    make_visit(in_massachusetts, days_ahead(-10, "10:00"), days_ahead(-10, "11:00"), status="completed")
    booked = [make_account(lot, days_past_due=dpd) for dpd in (70, 60)]
    over_cap = make_account(lot, days_past_due=50)
    return {
        "restricted": restricted,
        "at_limit": at_limit,
        "in_massachusetts": in_massachusetts,
        "booked": booked,
        "over_cap": over_cap,
        "second_day": (first + timedelta(days=1)).isoformat(),
    }


def guardrail_body(lot, **fields):
    return campaign_body(
        lot,
        segment={"buckets": ["31-60", "61-90", "91+"], "exclude_restricted": False},
        max_visits_per_day=2,
        **fields,
    )


def test_a_campaign_meets_every_guardrail_and_skips_with_the_refusals_code(app, client, headers, lot, guardrails):
    before = visit_count(app)
    response = client.post("/api/v1/campaigns", json=guardrail_body(lot, partial=True), headers=headers)
    assert response.status_code == 201, response.json
    results = {r["account_id"]: r for r in response.json["results"]}
    assert results[guardrails["restricted"].id]["code"] == "contact_restricted"
    assert results[guardrails["at_limit"].id]["code"] == "visit_frequency_limit"
    massachusetts = results[guardrails["in_massachusetts"].id]
    assert massachusetts["code"] == "visit_frequency_limit" and "MA rule" in massachusetts["detail"]
    assert results[guardrails["over_cap"].id]["code"] == "daily_cap_reached"
    for account in guardrails["booked"]:
        # The first day is at its cap already: both go to the second.
        assert results[account.id]["status"] == "booked"
        assert results[account.id]["date"] == guardrails["second_day"]
    assert all(r["status"] == "skipped" and r["visit_id"] is None for r in results.values() if r["code"])
    assert visit_count(app) == before + 2
    stored = client.get(f"/api/v1/campaigns/{response.json['id']}", headers=headers).json
    assert stored["results"] == response.json["results"]


def test_without_partial_a_skipped_account_books_nothing(app, client, headers, lot, guardrails):
    before = visit_count(app)
    response = client.post("/api/v1/campaigns", json=guardrail_body(lot), headers=headers)
    assert response.status_code == 422
    assert response.json["code"] == "campaign_failed"
    assert len(response.json["results"]) == 6
    assert all(r["visit_id"] is None for r in response.json["results"])
    assert visit_count(app) == before
    assert client.get("/api/v1/campaigns", headers=headers).json == []


def test_a_dry_run_reports_and_writes_nothing(app, client, headers, lot, guardrails):
    before = visit_count(app)
    response = client.post("/api/v1/campaigns", json=guardrail_body(lot, dry_run=True), headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["id"] is None and response.json["status"] == "dry_run"
    statuses = sorted(r["status"] for r in response.json["results"])
    assert statuses == ["booked", "booked", "skipped", "skipped", "skipped", "skipped"]
    assert all(r["visit_id"] is None for r in response.json["results"])
    assert visit_count(app) == before
    assert client.get("/api/v1/campaigns", headers=headers).json == []
    assert client.get("/api/v1/audit?entity_type=campaign", headers=headers).json == []


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"to": "LONG"}, "validation_error", "to"),
        ({"from": "PAST"}, "validation_error", "from"),
        ({"segment": {"buckets": ["91+"], "min_amount_due": "99999.00"}}, "empty_segment", None),
        ({"segment": {"buckets": []}}, "validation_error", "segment.buckets"),
        ({"window_start": "25:00"}, "validation_error", "window_start"),
        ({"window_start": "17:00", "window_end": "09:00"}, "validation_error", "window_end"),
        ({"max_visits_per_day": 0}, "validation_error", "max_visits_per_day"),
        ({"dealership_id": 999999}, "validation_error", "dealership_id"),
    ],
)
def test_bad_campaigns_are_422_and_write_nothing(app, client, headers, lot, make_account, fields, code, field):
    make_account(lot, days_past_due=95, amount_due=Decimal("300.00"))
    today = local_today()
    replacements = {
        "LONG": (today + timedelta(days=2 + 31)).isoformat(),
        "PAST": (today - timedelta(days=1)).isoformat(),
    }
    fields = {key: replacements.get(value, value) if isinstance(value, str) else value for key, value in fields.items()}
    response = client.post("/api/v1/campaigns", json=campaign_body(lot, **fields), headers=headers)
    assert response.status_code == 422, response.json
    assert response.json["code"] == code
    if field:
        assert field in response.json["errors"]
    assert visit_count(app) == 0
    assert client.get("/api/v1/campaigns", headers=headers).json == []


def test_a_campaign_of_31_days_starting_today_is_fine(client, headers, lot, make_account):
    make_account(lot, days_past_due=95)
    response = client.post("/api/v1/campaigns", json=campaign_body(lot, first=0, last=30), headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["status"] == "in_progress"


def test_the_lots_manager_reads_its_campaigns_and_nobody_else_books_them(
    client, headers, login, make_user, make_dealership, make_account, lot
):
    make_account(lot, days_past_due=95)
    other_lot = make_dealership()
    make_account(other_lot, days_past_due=95)
    ours = client.post("/api/v1/campaigns", json=campaign_body(lot), headers=headers).json
    theirs = client.post("/api/v1/campaigns", json=campaign_body(other_lot), headers=headers).json
    manager = login(make_user("manager", dealerships=[lot]))
    assert [c["id"] for c in client.get("/api/v1/campaigns", headers=manager).json] == [ours["id"]]
    assert client.get(f"/api/v1/campaigns/{ours['id']}", headers=manager).status_code == 200
    assert client.get(f"/api/v1/campaigns/{theirs['id']}", headers=manager).status_code == 404
    assert client.post("/api/v1/campaigns", json=campaign_body(lot), headers=manager).status_code == 403
    rep = login(make_user("rep", dealerships=[lot]))
    assert client.get("/api/v1/campaigns", headers=rep).status_code == 403
