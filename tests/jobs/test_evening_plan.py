"""The evening plan on the scheduler: each lot's tomorrow is routed once its own evening comes."""

from datetime import timedelta

import pytest

from field_ops.jobs.scheduler import tick
from tests.closing import listing
from tests.timing import local, local_today

# The planning job takes its locks and plans on transactions of its own: data must really commit.
pytestmark = pytest.mark.real_commits

LOT = (36.359, -94.1966)


@pytest.fixture
def office(make_user, login):
    return login(make_user("specialist"))


@pytest.fixture
def evening_at(app, monkeypatch):
    def set_time(clock):
        monkeypatch.setitem(app.config, "AUTO_PLAN_AT", clock)

    return set_time


@pytest.fixture
def lot_with_tomorrow(make_dealership, make_user, make_account, make_visit):
    """A lot in `zone` with a rep and one visit tomorrow (Chicago's tomorrow: the same date in
    New York at the moments these tests use)."""

    def make(zone="America/Chicago"):
        lot = make_dealership(latitude=LOT[0], longitude=LOT[1], timezone=zone)
        make_user("rep", dealerships=[lot])
        account = make_account(lot, latitude=LOT[0] + 0.02, longitude=LOT[1])
        tomorrow = local_today() + timedelta(days=1)
        return lot, make_visit(account, local(tomorrow, "09:00"), local(tomorrow, "17:00"))

    return make


def routed(client, headers, visit):
    return client.get(f"/api/v1/visits/{visit.id}", headers=headers).json["route_id"] is not None


def test_a_tick_plans_tomorrow_only_where_the_evening_has_come_and_only_once(
    app, client, office, evening_at, lot_with_tomorrow
):
    evening_at("17:30")
    chicago, chicago_visit = lot_with_tomorrow("America/Chicago")
    new_york, new_york_visit = lot_with_tomorrow("America/New_York")
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    five_pm_in_chicago = local(local_today(), "17:00")  # 18:00 in New York

    tick(app, now=five_pm_in_chicago)
    runs = listing(client, office, "/api/v1/job-runs?job=evening_plan")
    assert [(r["dealership_id"], r["day"], r["status"]) for r in runs] == [(new_york.id, tomorrow, "ok")]
    assert runs[0]["counts"] == {"routes": 1, "visits_planned": 1, "visits_unassigned": 0, "already_planned": 0}
    assert routed(client, office, new_york_visit) and not routed(client, office, chicago_visit)

    tick(app, now=five_pm_in_chicago + timedelta(minutes=10))
    assert len(listing(client, office, "/api/v1/job-runs?job=evening_plan")) == 1

    tick(app, now=five_pm_in_chicago + timedelta(minutes=45))
    runs = listing(client, office, "/api/v1/job-runs?job=evening_plan")
    assert [(r["dealership_id"], r["day"]) for r in runs] == [(chicago.id, tomorrow), (new_york.id, tomorrow)]
    assert routed(client, office, chicago_visit)


def test_a_lot_already_planned_by_hand_is_left_alone_and_an_empty_lot_is_noted(
    app, client, office, evening_at, lot_with_tomorrow, make_dealership
):
    evening_at("17:30")
    planned, _ = lot_with_tomorrow()
    empty = make_dealership()
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    by_hand = client.post(f"/api/v1/dealerships/{planned.id}/route-plans", json={"date": tomorrow}, headers=office)
    assert by_hand.status_code == 200, by_hand.json
    plan_before = client.get(f"/api/v1/dealerships/{planned.id}/route-plans/{tomorrow}", headers=office)

    tick(app, now=local(local_today(), "18:00"))
    runs = {r["dealership_id"]: r for r in listing(client, office, "/api/v1/job-runs?job=evening_plan")}
    assert runs[planned.id]["counts"]["already_planned"] == 1
    assert runs[empty.id]["counts"] == {"routes": 0, "visits_planned": 0, "visits_unassigned": 0, "already_planned": 0}
    plan_after = client.get(f"/api/v1/dealerships/{planned.id}/route-plans/{tomorrow}", headers=office)
    assert plan_after.status_code == plan_before.status_code
    assert plan_after.json == plan_before.json


def test_a_failing_lot_does_not_stop_the_others_and_is_tried_again(
    app, client, office, evening_at, lot_with_tomorrow, make_dealership
):
    evening_at("17:30")
    broken = make_dealership(timezone="Nowhere/Atlantis")
    good, visit = lot_with_tomorrow()
    tick(app, now=local(local_today(), "18:00"))
    runs = {r["dealership_id"]: r for r in listing(client, office, "/api/v1/job-runs?job=evening_plan")}
    assert runs[broken.id]["status"] == "failed" and "Atlantis" in runs[broken.id]["error"]
    assert runs[good.id]["status"] == "ok" and routed(client, office, visit)

    tick(app, now=local(local_today(), "18:15"))
    again = listing(client, office, "/api/v1/job-runs?job=evening_plan")
    assert [r["dealership_id"] for r in again] == [broken.id, good.id, broken.id]  # latest first


def test_the_evening_plan_is_off_until_auto_plan_at_is_set(app, client, office, lot_with_tomorrow):
    _, visit = lot_with_tomorrow()
    assert app.config["AUTO_PLAN_AT"] == ""
    tick(app, now=local(local_today(), "23:00"))
    assert listing(client, office, "/api/v1/job-runs?job=evening_plan") == []
    assert not routed(client, office, visit)


def test_plan_tomorrow_by_hand_from_the_cli(app, client, office, lot_with_tomorrow):
    lot, visit = lot_with_tomorrow()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plan-tomorrow", "--dealership-id", str(lot.id)])
    assert result.exit_code == 0, result.output
    assert f"dealership {lot.id}: ok" in result.output and "visits_planned=1" in result.output
    assert routed(client, office, visit)
    again = runner.invoke(args=["plan-tomorrow", "--dealership-id", str(lot.id)])
    assert again.exit_code == 0 and again.output.startswith("Nothing to plan")
