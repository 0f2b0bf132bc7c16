"""The service under load: a rep's day and an office day, driven by locust against gunicorn on
PostgreSQL, next to a bare Flask app under the same gunicorn settings in the same run.

    .venv/bin/python -m benchmarks.load [--users 20] [--seconds 30] [--workers 2] [--repeat 1]
        [--client fast|requests] [--max-requests 100000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Builds a generated data set in a throwaway database (50 lots, 300 reps, 30,000 accounts, 5,000
visits on the day; each rep's route written directly as a planned route would be: 16 stops for
the first rep of a lot, 9 for the others, the rest of the day unrouted), then for each scenario
runs locust headless (no wait between requests, bounded in time and requests, 127.0.0.1 only;
FastHttpUser unless `--client requests`):

- `route`: every user a rep reading `GET /me/route`;
- `day`: reps (route, `/sync`, check-in and outcome at the next stop) and office staff (book
  visits, plan a lot's next day, the schedule as CSV, the lot-issue ranking), 3 to 1.

Prints per endpoint: requests/s, p50, p95, p99 (ms), errors, SQL statements per request (one
in-process pass through the test client with a counting `before_cursor_execute` listener), and
the ratio to the bare app's requests/s for the same endpoint and users. Then, in one process
with the test client, the median of `GET /me/route` (9 stops) and `GET /me`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert

from benchmarks import scratch_database
from field_ops import create_app
from field_ops.accounts.models import Account
from field_ops.auth.access import encode_access_token
from field_ops.auth.models import LoginSession
from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.core.passwords import hash_password
from field_ops.dealerships.models import Dealership
from field_ops.routing.models import Route, RoutePlan
from field_ops.users.models import User, user_dealerships
from field_ops.visits.models import Visit

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The lots' zone: one where it is daytime now, since check-ins and outcomes are refused outside
# the customer's contact hours (08:00-21:00), and a run at any hour should measure the same day.
US_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
            "Pacific/Honolulu", "Pacific/Guam"]  # fmt: skip


def daytime_zone() -> str:
    def distance_from_one_pm(zone: str) -> float:
        local = datetime.now(ZoneInfo(zone))
        return abs(local.hour + local.minute / 60 - 13)

    return min(US_ZONES, key=distance_from_one_pm)


ZONE = daytime_zone()
BASE = (36.359, -94.1966)
TOKEN_TTL_SECONDS = 4 * 3600
WINDOWS = [("08:00", "18:00"), ("09:00", "12:00"), ("13:00", "17:00"), ("10:00", "14:00"), ("14:00", "18:00")]


def shape(args) -> dict[str, int]:
    return {"lots": args.lots, "reps": args.reps, "accounts": args.accounts, "visits": args.visits}


def _at(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock.fromisoformat(hhmm), tzinfo=zone).astimezone(UTC)


def build_data_set(app, lots: int, reps: int, accounts: int, visits: int, seed: int = 19) -> dict:
    """Bulk inserts (executemany), no ORM units of work: the whole set in well under a minute."""
    rng = random.Random(seed)
    zone = ZoneInfo(ZONE)
    day = datetime.now(zone).date()
    tomorrow = day + timedelta(days=1)
    reps_per_lot, accounts_per_lot, visits_per_lot = reps // lots, accounts // lots, visits // lots
    now = datetime.now(UTC)
    data: dict = {"day": day.isoformat(), "tomorrow": tomorrow.isoformat(), "reps": [], "office": [], "lots": []}
    data["tomorrow_window"] = [_at(tomorrow, "10:00", zone).isoformat(), _at(tomorrow, "12:00", zone).isoformat()]
    with app.app_context(), transaction() as session:
        password = hash_password(secrets.token_urlsafe(12))
        lot_rows = []
        for n in range(lots):
            lat, lon = BASE[0] + (n // 10) * 0.6, BASE[1] + (n % 10) * 0.6
            lot_rows.append(
                {
                    "code": f"L{n:03d}",
                    "name": f"Lot {n}",
                    "address_line1": f"{100 + n} Walton Blvd",
                    "city": "Bentonville",
                    "state": "AR",
                    "postal_code": "72712",
                    "latitude": lat,
                    "longitude": lon,
                    "timezone": ZONE,
                    "geocode_source": "given",
                }
            )
        lot_ids = list(
            session.scalars(insert(Dealership).returning(Dealership.id, sort_by_parameter_order=True), lot_rows)
        )
        user_rows = [
            {"email": f"office{n}@load.example", "name": f"Office {n}", "role": "specialist", "password_hash": password}
            for n in range(5)
        ]
        user_rows += [
            {"email": f"rep{n}@load.example", "name": f"Rep {n}", "role": "rep", "password_hash": password}
            for n in range(reps_per_lot * lots)
        ]
        user_ids = list(session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), user_rows))
        office_ids, rep_ids = user_ids[:5], user_ids[5:]
        session.execute(
            insert(user_dealerships),
            [{"user_id": rep_id, "dealership_id": lot_ids[i // reps_per_lot]} for i, rep_id in enumerate(rep_ids)],
        )
        account_rows = []
        for lot_index, row in enumerate(lot_rows):
            for n in range(accounts_per_lot):
                account_rows.append(
                    {
                        "account_number": f"{row['code']}-{n:05d}",
                        "dealership_id": lot_ids[lot_index],
                        "customer_name": f"Customer {lot_index}-{n}",
                        "address_line1": f"{n} Main St",
                        "city": "Bentonville",
                        "state": "AR",
                        "postal_code": "72712",
                        "latitude": round(row["latitude"] + rng.uniform(-0.2, 0.2), 6),
                        "longitude": round(row["longitude"] + rng.uniform(-0.2, 0.2), 6),
                        "timezone": ZONE,
                        "geocode_source": "given",
                        "days_past_due": rng.randint(1, 120),
                        "amount_due": "150.00",
                        "balance": "4200.00",
                    }
                )
        account_ids = list(
            session.scalars(insert(Account).returning(Account.id, sort_by_parameter_order=True), account_rows)
        )
        plan_ids = list(
            session.scalars(
                insert(RoutePlan).returning(RoutePlan.id, sort_by_parameter_order=True),
                [{"dealership_id": lot_id, "date": day, "mode": "full", "unassigned": []} for lot_id in lot_ids],
            )
        )
        route_rows, stops_of = [], []
        for lot_index, lot_id in enumerate(lot_ids):
            for r in range(reps_per_lot):
                stops = 16 if r == 0 else 9
                route_rows.append(
                    {
                        "plan_id": plan_ids[lot_index],
                        "dealership_id": lot_id,
                        "rep_id": rep_ids[lot_index * reps_per_lot + r],
                        "date": day,
                        "total_km": 60.0,
                        "total_travel_minutes": 90.0,
                        "start_at": _at(day, "08:00", zone),
                        "end_at": _at(day, "17:00", zone),
                        "map_urls": [f"https://www.google.com/maps/dir/{lot_id}/{r}"],
                    }
                )
                stops_of.append(stops)
        route_ids = list(session.scalars(insert(Route).returning(Route.id, sort_by_parameter_order=True), route_rows))
        visit_rows, stop_points = [], {}
        for lot_index, lot_id in enumerate(lot_ids):
            first_account = lot_index * accounts_per_lot
            routed = [
                (route_index, s)
                for route_index in range(lot_index * reps_per_lot, (lot_index + 1) * reps_per_lot)
                for s in range(stops_of[route_index])
            ]
            for n in range(visits_per_lot):
                account = account_rows[first_account + n]
                start, end = rng.choice(WINDOWS)
                row = {
                    "account_id": account_ids[first_account + n],
                    "dealership_id": lot_id,
                    "kind": "personal_visit",
                    "scheduled_date": day,
                    "window_start": _at(day, start, zone),
                    "window_end": _at(day, end, zone),
                    "duration_minutes": 15,
                    "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
                    "status": "scheduled",
                    "booked_by": office_ids[0],
                    "reason": "Behind on payments",
                }
                if n < len(routed):
                    route_index, sequence = routed[n]
                    row |= {
                        "assigned_rep_id": route_rows[route_index]["rep_id"],
                        "route_id": route_ids[route_index],
                        "sequence": sequence + 1,
                        "eta": _at(day, "08:30", zone) + timedelta(minutes=30 * sequence),
                        "travel_km": 4.5,
                    }
                    stop_points.setdefault(route_index, []).append((len(visit_rows), account))
                visit_rows.append(row)
            for n in range(visits_per_lot, visits_per_lot + 10):  # tomorrow's first bookings
                visit_rows.append(
                    {
                        "account_id": account_ids[first_account + n],
                        "dealership_id": lot_id,
                        "kind": "personal_visit",
                        "scheduled_date": tomorrow,
                        "window_start": _at(tomorrow, "08:00", zone),
                        "window_end": _at(tomorrow, "18:00", zone),
                        "duration_minutes": 15,
                        "priority": "normal",
                        "status": "scheduled",
                        "booked_by": office_ids[0],
                    }
                )
        visit_ids = list(session.scalars(insert(Visit).returning(Visit.id, sort_by_parameter_order=True), visit_rows))
        logins = [{"id": str(uuid.uuid4()), "user_id": user_id, "created_at": now} for user_id in user_ids]
        session.execute(insert(LoginSession), logins)
        tokens = {login["user_id"]: encode_access_token(login["user_id"], login["id"])[0] for login in logins}
        for route_index, row in enumerate(route_rows):
            data["reps"].append(
                {
                    "id": row["rep_id"],
                    "token": tokens[row["rep_id"]],
                    "stops": [
                        {"visit_id": visit_ids[i], "latitude": a["latitude"], "longitude": a["longitude"]}
                        for i, a in stop_points.get(route_index, [])
                    ],
                }
            )
        # Rep order interleaves lots so any slice of users spreads over the lots.
        data["reps"].sort(key=lambda rep: (rep_ids.index(rep["id"]) % reps_per_lot, rep_ids.index(rep["id"])))
        data["office"] = [{"id": office_id, "token": tokens[office_id]} for office_id in office_ids]
        for lot_index, lot_id in enumerate(lot_ids):
            first_account = lot_index * accounts_per_lot
            data["lots"].append(
                {
                    "id": lot_id,
                    "bookable": account_ids[first_account + visits_per_lot + 10 : first_account + accounts_per_lot],
                }
            )
    return data


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(target: str, workers: int, env: dict[str, str], threads: int = 1) -> Iterator[str]:
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        target,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/api/v1/no-such-path", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # any HTTP answer: it serves
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {target} did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def warm_up(url: str, data: dict) -> None:
    """First requests on a worker compile statements and fill caches: not the steady state."""
    for rep in data["reps"][:20]:
        request = urllib.request.Request(url + "/api/v1/me/route", headers={"Authorization": f"Bearer {rep['token']}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()


def run_locust(url: str, scenario: str, users_file: str, args, offset: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as folder:
        prefix = str(Path(folder) / "stats")
        command = [
            str(Path(sys.executable).with_name("locust")),
            "-f",
            str(ROOT / "benchmarks" / "load_locustfile.py"),
            "--headless",
            "--users",
            str(args.users),
            "--spawn-rate",
            str(args.users),
            "--run-time",
            f"{args.seconds}s",
            "--host",
            url,
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "ERROR",
            "--skip-log-setup",
        ]
        env = {
            **os.environ,
            "LOAD_USERS_FILE": users_file,
            "LOAD_SCENARIO": scenario,
            "LOAD_MAX_REQUESTS": str(args.max_requests),
            "LOAD_OFFSET": str(offset),
            "LOAD_CLIENT": args.client,
        }
        finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if not Path(prefix + "_stats.csv").exists():
            raise RuntimeError(f"locust failed: {finished.stderr[-2000:]}")
        stats = {}

        def number(value: str) -> float:
            return float("nan") if value in ("", "N/A") else float(value)

        with open(prefix + "_stats.csv", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                stats[row["Name"]] = {
                    "count": number(row["Request Count"]),
                    "errors": number(row["Failure Count"]),
                    "rps": number(row["Requests/s"]),
                    "p50": number(row["50%"]),
                    "p95": number(row["95%"]),
                    "p99": number(row["99%"]),
                }
        return stats


def count_statements(app, data: dict) -> tuple[dict[str, int], dict[str, float]]:
    """SQL statements per request, one request each through the test client, and the in-process
    medians of `GET /me/route` (9 stops) and `GET /me`."""
    client = app.test_client()
    nine = next(rep for rep in data["reps"] if len(rep["stops"]) == 9)
    sixteen = next(rep for rep in data["reps"] if len(rep["stops"]) == 16)
    rep = {"Authorization": f"Bearer {nine['token']}"}
    office = {"Authorization": f"Bearer {data['office'][0]['token']}"}
    lot = data["lots"][0]
    stop = nine["stops"][-1]
    counted = {"n": 0}
    with app.app_context():
        engine = get_engine()

    def _count(*_args, **_kwargs):
        counted["n"] += 1

    requests = [
        ("GET /me", lambda: client.get("/api/v1/me", headers=rep)),
        ("GET /me/route", lambda: client.get("/api/v1/me/route", headers=rep)),
        (
            "GET /me/route (16 stops)",
            lambda: client.get("/api/v1/me/route", headers={"Authorization": f"Bearer {sixteen['token']}"}),
        ),
        ("GET /sync", lambda: client.get("/api/v1/sync", headers=rep)),
        (
            "POST /visits/{id}/check-in",
            lambda: client.post(
                f"/api/v1/visits/{stop['visit_id']}/check-in",
                json={
                    "latitude": stop["latitude"],
                    "longitude": stop["longitude"],
                    "recorded_at": datetime.now(UTC).isoformat(),
                },
                headers=rep,
            ),
        ),
        (
            "POST /visits/{id}/outcome",
            lambda: client.post(
                f"/api/v1/visits/{stop['visit_id']}/outcome",
                json={"outcome": "not_home"},
                headers={**rep, "Idempotency-Key": str(uuid.uuid4())},
            ),
        ),
        (
            "POST /visits",
            lambda: client.post(
                "/api/v1/visits",
                json={
                    "account_id": lot["bookable"][-1],
                    "window_start": data["tomorrow_window"][0],
                    "window_end": data["tomorrow_window"][1],
                },
                headers=office,
            ),
        ),
        (
            "GET /schedules/{date}.csv",
            lambda: client.get(f"/api/v1/schedules/{data['day']}.csv?dealership_id={lot['id']}", headers=office),
        ),
        ("GET /lot-issues/summary", lambda: client.get("/api/v1/lot-issues/summary", headers=office)),
        (
            "POST /dealerships/{id}/route-plans",
            lambda: client.post(
                f"/api/v1/dealerships/{lot['id']}/route-plans", json={"date": data["tomorrow"]}, headers=office
            ),
        ),
    ]
    counts: dict[str, int] = {}
    # Each connection checkout counts as one more (it pings a connection idle for a while).
    event.listen(engine, "before_cursor_execute", _count)
    event.listen(engine, "checkout", _count)
    try:
        for name, call in requests:
            if name.startswith("GET"):
                call()  # warm: first-use caches are not the steady state
            counted["n"] = 0
            response = call()
            if response.status_code >= 400:
                print(f"  (in-process {name}: {response.status_code} {response.get_data(as_text=True)[:200]})")
            counts[name] = counted["n"]
    finally:
        event.remove(engine, "before_cursor_execute", _count)
        event.remove(engine, "checkout", _count)
    timings = {}
    for name, path in (("GET /me/route", "/api/v1/me/route"), ("GET /me", "/api/v1/me")):
        samples = []
        for _ in range(300):
            started = time.perf_counter()
            client.get(path, headers=rep)
            samples.append((time.perf_counter() - started) * 1000)
        timings[name] = statistics.median(samples[50:])
    return counts, timings


def median_stats(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    names = dict.fromkeys(name for run in runs for name in run)
    return {
        name: {
            key: statistics.median(run[name][key] for run in runs if name in run)
            for key in runs[0].get(name, next(iter(runs[0].values())))
        }
        for name in names
    }


def print_table(scenario: str, service: dict, bare: dict, statements: dict[str, int]) -> None:
    print(f"\nscenario {scenario}: service vs bare Flask app (median of runs)")
    header = (
        f"{'endpoint':38} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'errors':>7} {'SQL':>4} "
        f"{'bare req/s':>10} {'ratio':>6}"
    )
    print(header)
    for name, figures in service.items():
        if name == "Aggregated":
            continue
        base = bare.get(name, {})
        ratio = figures["rps"] / base["rps"] if base.get("rps") else float("nan")
        sql = statements.get(name)
        print(
            f"{name:38} {figures['rps']:7.1f} {figures['p50']:6.0f} {figures['p95']:6.0f} {figures['p99']:6.0f} "
            f"{int(figures['errors']):7d} {('' if sql is None else sql):>4} {base.get('rps', 0):10.1f} {ratio:6.3f}"
        )
    total, base = service.get("Aggregated"), bare.get("Aggregated")
    if total and base:
        print(
            f"{'all requests':38} {total['rps']:7.1f} {total['p50']:6.0f} {total['p95']:6.0f} {total['p99']:6.0f} "
            f"{int(total['errors']):7d} {'':>4} {base['rps']:10.1f} {total['rps'] / base['rps']:6.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers)")
    parser.add_argument(
        "--client",
        choices=["fast", "requests"],
        default="fast",
        help="locust's HTTP client: FastHttpUser (default) or HttpUser, which needs about twice the CPU per request",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each scenario; figures are their medians")
    parser.add_argument("--max-requests", type=int, default=100_000, help="stop a run after this many requests")
    parser.add_argument("--scenarios", nargs="+", default=["route", "day"], choices=["route", "day"])
    parser.add_argument("--lots", type=int, default=50)
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--accounts", type=int, default=30_000)
    parser.add_argument("--visits", type=int, default=5_000)
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", POSTGRES))
    args = parser.parse_args()
    secret = secrets.token_urlsafe(48)
    settings = {"SECRET_KEY": secret, "ACCESS_TOKEN_TTL_SECONDS": TOKEN_TTL_SECONDS, "SCHEDULER_ENABLED": False}
    with scratch_database(args.database_url) as url:
        app = create_app({"DATABASE_URL": url, **settings})
        with app.app_context():
            migrations.upgrade(get_engine())
        started = time.perf_counter()
        data = build_data_set(app, **shape(args))
        print(
            f"data set: {args.lots} lots, {len(data['reps'])} reps, {args.accounts} accounts, "
            f"{args.visits} visits on {data['day']} ({sum(len(r['stops']) for r in data['reps'])} routed), "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(data, handle)
            users_file = handle.name
        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": secret,
            "ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS),
            "SCHEDULER_ENABLED": "0",
            "PYTHONWARNINGS": "ignore",
        }
        print(
            f"locust: {args.users} users, no wait, {args.seconds} s (at most {args.max_requests} requests) per run; "
            f"gunicorn --workers {args.workers} --threads {args.threads} on 127.0.0.1; {args.repeat} run(s) each; "
            f"locust client {args.client}"
        )
        results: dict[str, tuple[list, list]] = {scenario: ([], []) for scenario in args.scenarios}
        offset = 0
        try:
            with (
                gunicorn("wsgi:app", args.workers, env, args.threads) as service_url,
                gunicorn("benchmarks.load_bare:app", args.workers, env, args.threads) as bare_url,
            ):
                warm_up(service_url, data)
                warm_up(bare_url, data)
                for _ in range(args.repeat):
                    for scenario in args.scenarios:
                        service_runs, bare_runs = results[scenario]
                        service_runs.append(run_locust(service_url, scenario, users_file, args, offset))
                        bare_runs.append(run_locust(bare_url, scenario, users_file, args, offset))
                        offset += args.users
        finally:
            os.unlink(users_file)
        statements, timings = count_statements(app, data)
        for scenario, (service_runs, bare_runs) in results.items():
            print_table(scenario, median_stats(service_runs), median_stats(bare_runs), statements)
        print("\nSQL statements per request (in-process, one request each):")
        for name, count in statements.items():
            print(f"  {name:38} {count}")
        print("\nin one process with the test client (median of 250 requests):")
        for name, ms in timings.items():
            print(f"  {name:38} {ms:.2f} ms")
        print("\nThe machine is shared: other work on it moves these figures; compare runs of one session.")


if __name__ == "__main__":
    main()
