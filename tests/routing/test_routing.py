import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from geopy.distance import great_circle
from sqlalchemy import event

from field_ops.accounts.models import Account
from field_ops.core.db import get_engine, transaction
from tests.concurrency import at_once
from tests.timing import days_ahead, local, local_today, recent_daytime

LOT = (36.359, -94.1966)


@pytest.fixture
def lot(make_dealership):
    return make_dealership(latitude=LOT[0], longitude=LOT[1])


@pytest.fixture
def day():
    return days_ahead(2, "00:00").date()


@pytest.fixture
def place_visit(make_account, make_visit, lot, day):
    """A visit at (lot + offset in degrees) with a window on the planned day."""

    def place(d_lat=0.02, d_lon=0.02, start="09:00", end="17:00", **fields):
        account_fields = fields.pop("account", {})
        account = make_account(lot, latitude=LOT[0] + d_lat, longitude=LOT[1] + d_lon, **account_fields)
        return make_visit(account, local(day, start), local(day, end), **fields)

    return place


def plan(client, headers, lot, day, **body):
    return client.post(
        f"/api/v1/dealerships/{lot.id}/route-plans", json={"date": day.isoformat(), **body}, headers=headers
    )


def placed_ids(result):
    return [stop["visit_id"] for route in result["routes"] for stop in route["stops"]]


def test_a_lot_day_is_grouped_into_routes_with_etas_inside_windows(client, office, lot, day, make_user, place_visit):
    reps = [make_user("rep", dealerships=[lot]) for _ in range(2)]
    offsets = [(0.03, 0.01), (-0.02, 0.04), (0.05, -0.03), (-0.04, -0.02), (0.01, 0.06), (0.02, -0.05)]
    visits = [place_visit(a, b, start="09:00", end="12:00" if i % 2 else "16:00") for i, (a, b) in enumerate(offsets)]
    response = plan(client, office, lot, day)
    assert response.status_code == 200, response.json
    result = response.json
    assert result["date"] == day.isoformat() and result["dealership_id"] == lot.id
    assert result["matrix_source"] == "great_circle"
    assert sorted(placed_ids(result)) == sorted(v.id for v in visits)
    assert result["unassigned"] == []
    by_id = {v.id: v for v in visits}
    for route in result["routes"]:
        assert route["rep_id"] in {r.id for r in reps}
        assert [s["sequence"] for s in route["stops"]] == list(range(1, len(route["stops"]) + 1))
        etas = [datetime.fromisoformat(s["eta"]) for s in route["stops"]]
        assert etas == sorted(etas)
        for stop, eta in zip(route["stops"], etas, strict=True):
            visit = by_id[stop["visit_id"]]
            assert visit.window_start <= eta <= visit.window_end
            assert stop["travel_km"] > 0
        assert route["total_km"] > sum(s["travel_km"] for s in route["stops"])
        assert datetime.fromisoformat(route["start_at"]) < etas[0]
        assert route["map_url"].startswith("https://www.google.com/maps/dir/?api=1")
        saved = client.get(f"/api/v1/visits/{route['stops'][0]['visit_id']}", headers=office).json
        assert (saved["route_id"], saved["sequence"], saved["assigned_rep_id"]) == (route["id"], 1, route["rep_id"])
        assert saved["eta"] == route["stops"][0]["eta"]


def test_each_unplaced_visit_gets_the_reason_built_for_it(app, client, office, lot, day, make_user, place_visit):
    make_user("rep", dealerships=[lot])
    fine = place_visit()
    restricted = place_visit(account={"restrictions": {"cease_contact": True}, "restriction_note": "letter"})
    evening = place_visit(start="19:00", end="20:00")
    little_rock = {"line1": "500 W Markham St", "city": "Little Rock", "state": "AR", "postal_code": "72201"}
    far = place_visit(d_lat=-1.61, d_lon=1.92, start="08:00", end="08:30", account={"address": little_rock})
    appointment = place_visit(kind="dealership_appointment")
    no_pin = place_visit()
    with app.app_context(), transaction() as session:
        account = session.get(Account, no_pin.account_id)
        account.latitude = account.longitude = None
    result = plan(client, office, lot, day).json
    reasons = {item["visit_id"]: item["reason"] for item in result["unassigned"]}
    assert reasons == {
        restricted.id: "contact_restricted",
        evening.id: "outside_shift",
        far.id: "window_unreachable",
        appointment.id: "dealership_appointment",
        no_pin.id: "missing_coordinates",
    }
    assert placed_ids(result) == [fine.id]


def test_visits_the_day_cannot_hold_are_did_not_fit_and_urgent_ones_are_kept(
    client, office, lot, day, make_user, place_visit
):
    make_user("rep", dealerships=[lot])
    crowd = [place_visit(0.05 * (i % 3 - 1), 0.05 * (i // 3 - 1), start="10:00", end="10:30") for i in range(6)]
    urgent = place_visit(0.06, 0.06, start="10:00", end="10:30", priority="urgent")
    result = plan(client, office, lot, day).json
    placed = placed_ids(result)
    assert urgent.id in placed
    dropped = {item["visit_id"] for item in result["unassigned"]}
    assert dropped and all(item["reason"] == "did_not_fit" for item in result["unassigned"])
    assert sorted(placed + list(dropped)) == sorted([v.id for v in crowd] + [urgent.id])


def test_a_lot_without_reps_leaves_every_visit_with_no_rep_available(client, office, lot, day, place_visit):
    visit = place_visit()
    result = plan(client, office, lot, day).json
    assert result["routes"] == []
    assert result["unassigned"] == [{"visit_id": visit.id, "reason": "no_rep_available"}]


def test_a_day_without_visits_is_an_empty_plan(client, office, lot, day, make_user):
    make_user("rep", dealerships=[lot])
    response = plan(client, office, lot, day)
    assert response.status_code == 200
    assert response.json["routes"] == [] and response.json["unassigned"] == []


def test_keep_assignments_keeps_each_visit_with_its_rep(client, office, lot, day, make_user, place_visit):
    alice, bob = make_user("rep", dealerships=[lot]), make_user("rep", dealerships=[lot])
    # Alice's visits are all east, Bob's west: a free plan would not split them this way.
    alices = [place_visit(0.01 * i, -0.05, rep=bob if i % 2 else alice) for i in range(4)]
    result = plan(client, office, lot, day, keep_assignments=True).json
    rep_of = {stop["visit_id"]: route["rep_id"] for route in result["routes"] for stop in route["stops"]}
    for i, visit in enumerate(alices):
        assert rep_of[visit.id] == (bob.id if i % 2 else alice.id)


def test_replanning_replaces_the_earlier_plan_whole_and_each_rep_keeps_their_route_id(
    client, office, lot, day, make_user, place_visit
):
    make_user("rep", dealerships=[lot])
    visits = [place_visit(0.01 * i, 0.02) for i in range(3)]
    first = plan(client, office, lot, day).json
    second = plan(client, office, lot, day).json
    assert [r["id"] for r in first["routes"]] == [r["id"] for r in second["routes"]]
    listed = client.get(f"/api/v1/routes?date={day.isoformat()}&dealership_id={lot.id}", headers=office).json
    assert [r["id"] for r in listed] == [r["id"] for r in second["routes"]]
    assert sorted(placed_ids(second)) == sorted(v.id for v in visits)


def test_a_rep_who_loses_every_stop_keeps_an_empty_route_with_the_same_id(
    client, office, lot, day, make_user, place_visit
):
    alice, bob = make_user("rep", dealerships=[lot], name="Alice Avery"), make_user("rep", dealerships=[lot])
    visit = place_visit(0.02, 0.02, rep=alice)
    first = plan(client, office, lot, day, rep_ids=[alice.id]).json
    route = first["routes"][0]
    assert route["rep_name"] == "Alice Avery"
    assert route["stops"][0]["customer_name"] and route["stops"][0]["account_id"] == visit.account_id
    second = plan(client, office, lot, day, rep_ids=[bob.id]).json
    assert placed_ids(second) == [visit.id]
    kept = client.get(f"/api/v1/routes/{route['id']}", headers=office).json
    assert kept["rep_id"] == alice.id and kept["stops"] == [] and kept["total_km"] == 0
    third = plan(client, office, lot, day).json
    assert route["id"] in {r["id"] for r in third["routes"]}


def test_visits_already_checked_in_stay_where_they_are(app, client, office, lot, day, make_user, place_visit):
    rep = make_user("rep", dealerships=[lot])
    visits = [place_visit(0.01 * i, 0.03) for i in range(4)]
    first = plan(client, office, lot, day).json
    first_stop = first["routes"][0]["stops"][0]
    from field_ops.visits.models import Visit

    with app.app_context(), transaction() as session:
        visit = session.get(Visit, first_stop["visit_id"])
        visit.status = "checked_in"
    second = plan(client, office, lot, day).json
    route = second["routes"][0]
    assert route["rep_id"] == rep.id
    assert route["stops"][0]["visit_id"] == first_stop["visit_id"]
    assert route["stops"][0]["eta"] == first_stop["eta"]
    assert sorted(placed_ids(second)) == sorted(v.id for v in visits)


def test_insert_mode_fits_new_visits_without_reordering_existing_stops(
    client, office, lot, day, make_user, place_visit
):
    make_user("rep", dealerships=[lot])
    for i in range(4):
        place_visit(0.02 * i - 0.03, 0.03 - 0.015 * i)
    before = plan(client, office, lot, day).json
    order_before = placed_ids(before)
    newcomer = place_visit(0.0, 0.035, start="11:00", end="15:00")
    after = plan(client, office, lot, day, mode="insert").json
    assert after["mode"] == "insert"
    order_after = placed_ids(after)
    assert newcomer.id in order_after
    assert [v for v in order_after if v != newcomer.id] == order_before


def test_a_route_reads_as_geojson(client, office, lot, day, make_user, place_visit):
    make_user("rep", dealerships=[lot])
    visits = [place_visit(0.01 * i, 0.02) for i in range(3)]
    route = plan(client, office, lot, day).json["routes"][0]
    response = client.get(f"/api/v1/routes/{route['id']}", headers={**office, "Accept": "application/geo+json"})
    assert response.status_code == 200
    assert response.content_type == "application/geo+json"
    collection = json.loads(response.get_data())
    assert collection["type"] == "FeatureCollection"
    line, *points = collection["features"]
    assert line["geometry"]["type"] == "LineString"
    assert line["geometry"]["coordinates"][0] == [LOT[1], LOT[0]] == line["geometry"]["coordinates"][-1]
    assert len(line["geometry"]["coordinates"]) == len(visits) + 2
    assert [p["properties"]["sequence"] for p in points] == [1, 2, 3]
    assert {p["properties"]["visit_id"] for p in points} == {v.id for v in visits}
    assert all(p["geometry"]["type"] == "Point" and p["properties"]["eta"] for p in points)
    plain = client.get(f"/api/v1/routes/{route['id']}", headers=office)
    assert plain.content_type == "application/json" and plain.json["id"] == route["id"]


def test_a_rep_reads_their_route_in_one_response(client, office, login, lot, day, make_user, place_visit):
    rep = make_user("rep", dealerships=[lot])
    visit = place_visit(account={"customer_name": "Ana Baca"})
    plan(client, office, lot, day)
    mine = client.get(f"/api/v1/me/route?date={day.isoformat()}", headers=login(rep)).json
    assert mine["rep_id"] == rep.id and mine["route_id"]
    stop = mine["stops"][0]
    assert stop["sequence"] == 1
    assert stop["visit"]["id"] == visit.id
    assert stop["account"]["customer_name"] == "Ana Baca"
    assert set(stop["account"]) == {
        "id",
        "account_number",
        "customer_name",
        "phone",
        "address",
        "latitude",
        "longitude",
        "amount_due",
        "days_past_due",
    }
    other_day = client.get(f"/api/v1/me/route?date={(day + timedelta(days=1)).isoformat()}", headers=login(rep)).json
    assert other_day["route_id"] is None and other_day["stops"] == []
    today = client.get("/api/v1/me/route", headers=login(rep)).json
    assert today["date"] == local_today().isoformat()


@pytest.mark.real_commits  # counts statements: no test savepoints among them
def test_reading_my_route_costs_the_same_few_statements_for_two_stops_as_for_six(
    app, client, office, login, lot, day, make_user, place_visit
):
    rep = make_user("rep", dealerships=[lot])
    headers = login(rep)
    with app.app_context():
        engine = get_engine()
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN, not a read
            statements.append(statement)

    def read_my_route() -> tuple[int, int]:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            mine = client.get(f"/api/v1/me/route?date={day.isoformat()}", headers=headers)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert mine.status_code == 200
        return len(mine.json["stops"]), len(statements)

    for offset in range(2):
        place_visit(0.01 * (offset + 1), 0.02)
    plan(client, office, lot, day)
    two = read_my_route()
    for offset in range(4):
        place_visit(-0.01 * (offset + 1), 0.02)
    plan(client, office, lot, day)
    six = read_my_route()
    assert (two[0], six[0]) == (2, 6)
    # The login with the user and their lots, then the route with its stops, accounts and outcomes.
    assert two[1] == six[1] == 2


def test_routes_are_scoped(client, office, login, lot, day, make_user, make_dealership, place_visit):
    alice, bob = make_user("rep", dealerships=[lot]), make_user("rep", dealerships=[lot])
    place_visit(0.03, 0.0, rep=alice)
    place_visit(-0.03, 0.0, rep=bob)
    routes = plan(client, office, lot, day, keep_assignments=True).json["routes"]
    alices = next(r for r in routes if r["rep_id"] == alice.id)
    bobs = next(r for r in routes if r["rep_id"] == bob.id)
    as_alice = login(alice)
    assert [r["id"] for r in client.get("/api/v1/routes", headers=as_alice).json] == [alices["id"]]
    assert client.get(f"/api/v1/routes/{bobs['id']}", headers=as_alice).status_code == 404
    stranger = login(make_user("manager", dealerships=[make_dealership()]))
    assert client.get(f"/api/v1/routes/{alices['id']}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/routes?dealership_id={lot.id}", headers=stranger).json == []
    manager = login(make_user("manager", dealerships=[lot]))
    assert len(client.get("/api/v1/routes", headers=manager).json) == 2
    assert plan(client, manager, lot, day).status_code == 403


def test_bad_plan_requests_are_refused_and_save_nothing(
    client, office, lot, day, make_user, make_dealership, place_visit
):
    visit = place_visit()
    yesterday = plan(client, office, lot, local_today() - timedelta(days=1))
    assert yesterday.status_code == 422 and "date" in yesterday.json["errors"]
    foreign_rep = make_user("rep", dealerships=[make_dealership()])
    inactive = make_user("rep", dealerships=[lot], active=False)
    for rep in (foreign_rep, inactive):
        response = plan(client, office, lot, day, rep_ids=[rep.id])
        assert response.status_code == 422 and "rep_ids" in response.json["errors"]
    assert plan(client, office, lot, day, mode="sideways").status_code == 422
    assert (
        client.post("/api/v1/dealerships/99999/route-plans", json={"date": day.isoformat()}, headers=office).status_code
        == 404
    )
    assert client.get(f"/api/v1/visits/{visit.id}", headers=office).json["route_id"] is None
    assert client.get("/api/v1/routes", headers=office).json == []


class _FakeOsrm(BaseHTTPRequestHandler):
    """Answers /table/v1/driving/... like OSRM: every trip 1.5x the straight line, at 30 km/h."""

    fail = False

    def do_GET(self):  # noqa: N802
        if self.fail:
            self.send_response(503)
            self.end_headers()
            return
        coordinates = self.path.split("/table/v1/driving/")[1].split("?")[0].split(";")
        points = [tuple(float(x) for x in c.split(",")) for c in coordinates]
        distances = [[great_circle((a[1], a[0]), (b[1], b[0])).meters * 1.5 for b in points] for a in points]
        durations = [[d / (30 / 3.6) for d in row] for row in distances]
        body = json.dumps({"code": "Ok", "distances": distances, "durations": durations}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm(app, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOsrm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setitem(app.config, "OSRM_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setitem(app.config, "OSRM_TIMEOUT_SECONDS", 2)
    yield _FakeOsrm
    _FakeOsrm.fail = False
    server.shutdown()
    server.server_close()


def test_osrm_road_distances_are_used_when_configured(client, office, lot, day, make_user, place_visit, osrm):
    make_user("rep", dealerships=[lot])
    place_visit(0.03, 0.0)
    with_osrm = plan(client, office, lot, day).json
    assert with_osrm["matrix_source"] == "osrm"
    osrm.fail = True
    fallback = plan(client, office, lot, day).json
    assert fallback["matrix_source"] == "great_circle_fallback"
    # OSRM's (fake) roads are 1.5x the straight line; the fallback's detour factor is 1.3.
    ratio = with_osrm["routes"][0]["total_km"] / fallback["routes"][0]["total_km"]
    assert ratio == pytest.approx(1.5 / 1.3, rel=0.01)


def test_a_long_route_is_split_into_map_links_by_the_waypoint_limit(
    app, client, office, lot, day, make_user, place_visit, monkeypatch
):
    monkeypatch.setitem(app.config, "MAP_WAYPOINT_LIMIT", 2)
    make_user("rep", dealerships=[lot])
    for i in range(5):
        place_visit(0.01 * (i + 1), 0.01)
    route = plan(client, office, lot, day).json["routes"][0]
    # lot + 5 stops + lot = 7 points: lot>[s1,s2]>s3, then s3>[s4,s5]>lot, chained end to start.
    assert len(route["map_urls"]) == 2
    assert route["map_url"] == route["map_urls"][0]
    for link in route["map_urls"]:
        query = parse_qs(urlsplit(link).query)
        assert len(query.get("waypoints", [""])[0].split("|")) <= 2
    first, second = (parse_qs(urlsplit(link).query) for link in route["map_urls"][:2])
    assert first["destination"] == second["origin"]


@pytest.mark.real_commits
def test_two_planners_of_one_lot_day_at_once_leave_one_whole_plan(app, office, lot, day, make_user, place_visit):
    make_user("rep", dealerships=[lot])
    make_user("rep", dealerships=[lot])
    visits = [place_visit(0.01 * i, -0.02) for i in range(6)]
    statuses = [response.status_code for response in at_once(app, 2, lambda c, _: plan(c, office, lot, day))]
    assert sorted(statuses) in ([200, 200], [200, 409])
    client = app.test_client()
    routes = client.get(f"/api/v1/routes?date={day.isoformat()}", headers=office).json
    stops = [stop["visit_id"] for route in routes for stop in route["stops"]]
    assert sorted(stops) == sorted(v.id for v in visits)
    for visit in visits:
        saved = client.get(f"/api/v1/visits/{visit.id}", headers=office).json
        assert saved["route_id"] in {route["id"] for route in routes}


def test_etas_stay_inside_windows_on_a_dst_change_day(client, office, lot, make_user, make_account, make_visit):
    from datetime import date

    make_user("rep", dealerships=[lot])
    spring = date(2027, 3, 14)  # Chicago springs forward at 02:00
    visit = make_visit(
        make_account(lot, latitude=36.38, longitude=-94.19), local(spring, "09:00"), local(spring, "09:30")
    )
    route = plan(client, office, lot, spring).json["routes"][0]
    eta = datetime.fromisoformat(route["stops"][0]["eta"])
    assert visit.window_start <= eta <= visit.window_end
    assert datetime.fromisoformat(route["start_at"]) >= local(spring, "08:00")


def test_a_rep_left_out_of_a_replan_keeps_their_finished_visits(app, client, office, lot, day, make_user, place_visit):
    from field_ops.visits.models import Visit

    alice, bob = make_user("rep", dealerships=[lot]), make_user("rep", dealerships=[lot])
    done = place_visit(0.02, 0.02, rep=alice)
    place_visit(-0.02, 0.02, rep=alice)
    first = plan(client, office, lot, day, keep_assignments=True).json
    with app.app_context(), transaction() as session:
        session.get(Visit, done.id).status = "completed"
    second = plan(client, office, lot, day, rep_ids=[bob.id]).json
    finished = client.get(f"/api/v1/visits/{done.id}", headers=office).json
    alices_route = next(r for r in first["routes"] if r["rep_id"] == alice.id)
    assert finished["route_id"] == alices_route["id"]
    assert client.get(f"/api/v1/routes/{alices_route['id']}", headers=office).status_code == 200
    assert {r["rep_id"] for r in second["routes"]} == {bob.id}
    assert client.get(f"/api/v1/routes/{alices_route['id']}", headers=office).json["stops"][0]["visit_id"] == done.id


def test_a_full_replan_leaves_appointments_and_their_reps_alone(client, office, lot, day, make_user, place_visit):
    rep = make_user("rep", dealerships=[lot])
    appointment = place_visit(kind="dealership_appointment", rep=rep)
    plan(client, office, lot, day)
    assert client.get(f"/api/v1/visits/{appointment.id}", headers=office).json["assigned_rep_id"] == rep.id


def test_a_single_route_has_an_etag(client, office, lot, day, make_user, place_visit):
    make_user("rep", dealerships=[lot])
    place_visit()
    route = plan(client, office, lot, day).json["routes"][0]
    first = client.get(f"/api/v1/routes/{route['id']}", headers=office)
    again = client.get(f"/api/v1/routes/{route['id']}", headers={**office, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    geo = client.get(f"/api/v1/routes/{route['id']}", headers={**office, "Accept": "application/geo+json"})
    assert geo.headers["ETag"] != first.headers["ETag"]


def test_a_backwards_shift_is_refused(client, admin_headers, make_user, lot):
    rep = make_user("rep", dealerships=[lot])
    url = f"/api/v1/users/{rep.id}"
    etag = client.get(url, headers=admin_headers).headers["ETag"]
    response = client.patch(
        url, json={"shift_start": "17:00", "shift_end": "09:00"}, headers={**admin_headers, "If-Match": etag}
    )
    assert response.status_code == 422 and "shift_end" in response.json["errors"]


def test_an_evening_visit_is_planned_to_end_by_the_close_of_contact_hours(
    client, admin_headers, office, lot, day, make_user, place_visit
):
    rep = make_user("rep", dealerships=[lot])

    def shift(start):
        etag = client.get(f"/api/v1/users/{rep.id}", headers=admin_headers).headers["ETag"]
        response = client.patch(f"/api/v1/users/{rep.id}", json={"shift_start": start, "shift_end": "22:00"},
                                headers={**admin_headers, "If-Match": etag})  # fmt: skip
        assert response.status_code == 200

    visit = place_visit(0.05, 0.05, start="20:00", end="21:00", duration_minutes=30)
    shift("19:00")
    stop = plan(client, office, lot, day).json["routes"][0]["stops"][0]
    assert datetime.fromisoformat(stop["eta"]) + timedelta(minutes=30) <= local(day, "21:00")
    # The visit must start by 20:30 to end by 21:00: a rep starting at 20:35 is off shift for it.
    shift("20:35")
    late = plan(client, office, lot, day).json
    assert late["unassigned"] == [{"visit_id": visit.id, "reason": "outside_shift"}]


def _plan_in_background(app, headers, lot, day):
    """Start a plan on its own thread; returns the thread and a list that receives the response."""
    answers = []

    def run():
        answers.append(plan(app.test_client(), headers, lot, day))

    thread = threading.Thread(target=run)
    thread.start()
    return thread, answers


@pytest.mark.real_commits
def test_other_requests_answer_promptly_while_a_plan_of_the_same_lot_runs(
    app, client, office, lot, day, make_user, place_visit, monkeypatch
):
    from field_ops.routing import solver

    solver.warm_up(wait=True)  # the solver's worker processes are running, as they are after a first plan
    monkeypatch.setitem(app.config, "ROUTING_TIME_LIMIT_SECONDS", 1.5)
    for _ in range(2):
        make_user("rep", dealerships=[lot])
    for i in range(30):
        place_visit(0.004 * (i % 6) - 0.01, 0.005 * (i // 6) - 0.01, start="09:00", end="16:00")
    thread, answers = _plan_in_background(app, office, lot, day)
    time.sleep(0.5)  # the day is read; the solver is running
    waits = []
    for _ in range(5):
        started = time.perf_counter()
        assert client.get("/api/v1/me", headers=office).status_code == 200
        waits.append(time.perf_counter() - started)
        time.sleep(0.05)
    still_planning = thread.is_alive()
    thread.join(timeout=30)
    assert still_planning
    assert max(waits) < 0.2, waits
    assert answers[0].status_code == 200


@pytest.mark.real_commits
def test_a_visit_cancelled_while_the_day_is_planned_makes_the_plan_stale_and_saves_nothing(
    app, client, office, lot, day, make_user, place_visit, monkeypatch
):
    from field_ops.routing.models import Route
    from field_ops.visits.models import Visit

    monkeypatch.setitem(app.config, "ROUTING_TIME_LIMIT_SECONDS", 1.0)
    make_user("rep", dealerships=[lot])
    visits = [place_visit(0.01 * i, 0.02) for i in range(4)]
    thread, answers = _plan_in_background(app, office, lot, day)
    time.sleep(0.4)
    with app.app_context(), transaction() as session:
        session.get(Visit, visits[0].id).status = "cancelled"
    thread.join(timeout=30)
    assert answers[0].status_code == 409
    assert answers[0].json["code"] == "plan_stale"
    with app.app_context(), transaction() as session:
        assert session.query(Route).count() == 0
        assert all(session.get(Visit, v.id).route_id is None for v in visits)
    again = plan(client, office, lot, day)
    assert sorted(placed_ids(again.json)) == sorted(v.id for v in visits[1:])


DOOR = (36.3801, -94.1702)


def _visit_at_the_door(client, login, rep, visit, accuracy_m, outcome="not_home"):
    headers = login(rep)
    at = recent_daytime()
    body = {"latitude": DOOR[0], "longitude": DOOR[1], "accuracy_m": accuracy_m, "recorded_at": at.isoformat()}
    assert client.post(f"/api/v1/visits/{visit.id}/check-in", json=body, headers=headers).status_code == 200
    response = client.post(
        f"/api/v1/visits/{visit.id}/outcome", json={"outcome": outcome}, headers={**headers, "Idempotency-Key": "k"}
    )
    assert response.status_code == 201, response.json


def test_a_check_in_at_the_door_moves_a_zip_centroid_pin_and_the_next_plan_uses_it(
    client, office, login, lot, day, make_user, make_account, make_visit
):
    rep = make_user("rep", dealerships=[lot])
    account = make_account(lot, latitude=None, longitude=None)
    assert account.geocode_source == "postal_code_centroid"
    at = recent_daytime()
    _visit_at_the_door(
        client, login, rep, make_visit(account, at - timedelta(hours=1), at + timedelta(hours=1), rep=rep), 20
    )

    saved = client.get(f"/api/v1/accounts/{account.id}", headers=office).json
    assert (saved["latitude"], saved["longitude"], saved["geocode_source"]) == (DOOR[0], DOOR[1], "check_in")
    audit = client.get(f"/api/v1/audit?entity_type=account&entity_id={account.id}", headers=office).json
    learned = [entry for entry in audit if entry["action"] == "account.pin_learned"]
    assert learned and learned[0]["changes"]["geocode_source"] == ["postal_code_centroid", "check_in"]

    tomorrow = make_visit(account, local(day, "09:00"), local(day, "17:00"))
    result = plan(client, office, lot, day).json
    assert placed_ids(result) == [tomorrow.id]
    route = client.get(
        f"/api/v1/routes/{result['routes'][0]['id']}", headers={**office, "Accept": "application/geo+json"}
    ).json
    stop = next(f for f in route["features"] if f["geometry"]["type"] == "Point")
    assert stop["geometry"]["coordinates"] == [DOOR[1], DOOR[0]]
    expected_km = great_circle(LOT, DOOR).km * 1.3
    assert result["routes"][0]["stops"][0]["travel_km"] == pytest.approx(expected_km, rel=0.02)


@pytest.mark.parametrize(
    ("pin", "accuracy_m", "outcome"),
    [("centroid", 80, "not_home"), ("given", 10, "not_home"), ("centroid", 10, "wrong_address")],
)
def test_a_pin_is_not_moved_by_a_poor_fix_over_a_given_pin_or_without_proof_of_presence(
    client, office, login, lot, make_user, make_account, make_visit, pin, accuracy_m, outcome
):
    rep = make_user("rep", dealerships=[lot])
    coordinates = {"latitude": None, "longitude": None} if pin == "centroid" else {}
    account = make_account(lot, **coordinates)
    before = client.get(f"/api/v1/accounts/{account.id}", headers=office).json
    at = recent_daytime()
    visit = make_visit(account, at - timedelta(hours=1), at + timedelta(hours=1), rep=rep)
    _visit_at_the_door(client, login, rep, visit, accuracy_m, outcome)
    after = client.get(f"/api/v1/accounts/{account.id}", headers=office).json
    assert (after["latitude"], after["longitude"], after["geocode_source"]) == (
        before["latitude"],
        before["longitude"],
        before["geocode_source"],
    )


def test_the_evening_plan_routes_tomorrow_for_each_lot_with_visits_and_no_plan(
    app, client, office, make_dealership, make_user, make_account, make_visit
):
    from field_ops.routing.jobs import plan_unplanned_lots

    waiting, planned, idle = (make_dealership(latitude=LOT[0], longitude=LOT[1]) for _ in range(3))
    tomorrow = days_ahead(1, "00:00").date()
    visits = {}
    for lot in (waiting, planned, idle):
        make_user("rep", dealerships=[lot])
        if lot is not idle:
            account = make_account(lot, latitude=LOT[0] + 0.02, longitude=LOT[1])
            visits[lot.id] = make_visit(account, local(tomorrow, "09:00"), local(tomorrow, "17:00"))
    assert plan(client, office, planned, tomorrow).status_code == 200
    with app.app_context():
        results = plan_unplanned_lots(app.extensions["db_sessionmaker"])
    assert [(r.dealership_id, r.date, r.planned, r.error) for r in results] == [(waiting.id, tomorrow, 1, None)]
    saved = client.get(f"/api/v1/visits/{visits[waiting.id].id}", headers=office).json
    assert saved["route_id"] is not None
    with app.app_context():
        assert plan_unplanned_lots(app.extensions["db_sessionmaker"]) == []


def test_a_day_needing_more_time_than_the_shifts_hold_is_known_overfull_before_solving():
    from field_ops.routing.solver import Job, Problem, Site, Vehicle, cannot_serve_every_job

    def day(visits: int) -> Problem:
        # Everyone 10 minutes from everyone; one rep on a four-hour shift; one-hour visits.
        size = visits + 1
        minutes = [[0 if a == b else 600 for b in range(size)] for a in range(size)]
        return Problem(
            num_locations=size,
            depots=[Site(location=0)],
            jobs=[Job(location=i + 1, service_duration=3600, tw_early=0, tw_late=4 * 3600) for i in range(visits)],
            vehicles=[Vehicle(start_depot=0, end_depot=0, tw_early=0, tw_late=4 * 3600)],
            distance_matrices=[minutes],
            duration_matrices=[minutes],
        )

    assert cannot_serve_every_job(day(4))  # 4 x (60 + 10) minutes > 240
    assert not cannot_serve_every_job(day(3))  # 3 x 70 fits in 240: the solver decides


def test_an_every_visit_solve_that_finds_no_feasible_plan_hands_its_time_to_the_fallback():
    from field_ops.routing.solver import Job, Problem, Site, Vehicle, cannot_serve_every_job, solve

    # Five half-hour visits that must all start between 09:00 and 10:00, ten minutes apart, for one
    # rep on a ten-hour shift: the shift holds them all, the window two (09:00, 09:40).
    size = 6
    minutes = [[0 if a == b else 600 for b in range(size)] for a in range(size)]

    def day(required: bool) -> Problem:
        return Problem(
            num_locations=size,
            depots=[Site(location=0)],
            jobs=[
                Job(
                    location=i + 1,
                    service_duration=1800,
                    tw_early=9 * 3600,
                    tw_late=10 * 3600,
                    prize=10**6,
                    required=required,
                )
                for i in range(5)
            ],
            vehicles=[Vehicle(start_depot=0, end_depot=0, tw_early=8 * 3600, tw_late=18 * 3600)],
            distance_matrices=[minutes],
            duration_matrices=[minutes],
        )

    every_visit, as_many_as_fit = day(required=True), day(required=False)
    assert not cannot_serve_every_job(every_visit)  # the bound cannot see it: only a solve can
    assert not solve(every_visit, time_limit_s=0.2).feasible

    plan = solve(every_visit, time_limit_s=0.2, fallback=as_many_as_fit)

    assert plan.feasible
    assert [len(route.stops) for route in plan.routes] == [2]
    assert len(plan.unplanned_jobs) == 3
