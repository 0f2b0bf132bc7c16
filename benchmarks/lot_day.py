"""Lot-days planned through the HTTP API, on PostgreSQL by default: a day that fits (120 visits
within 25 km of a lot, 6 reps, mixed windows) and a day that cannot hold every visit (150
longer visits, mostly two-hour windows). Prints for each the wall time of
`POST /dealerships/{id}/route-plans` (median of runs), visits placed, in all and by priority
(the planner weighs priority first: of two plans, the one with fewer visits can be the better),
and total km, next to the same request with a 30 s budget.

    python -m benchmarks.lot_day [--runs 3] [--long-budget 30] [--days fits overfull]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres | sqlite]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from geopy.distance import distance as geodesic_distance
from sqlalchemy import make_url, select

from benchmarks import scratch_database
from field_ops import create_app
from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.dealerships.models import Dealership
from field_ops.routing import solver
from field_ops.users.service import create_user
from field_ops.visits.models import Visit

LOT = (36.359, -94.1966)
ZONE = "America/Chicago"
PASSWORD = "benchmark-password"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TIGHT_WINDOWS = [("08:00", "10:00"), ("10:00", "12:00"), ("12:00", "14:00"), ("14:00", "16:00"), ("16:00", "18:00")]


@dataclass(frozen=True)
class DayShape:
    visits: int
    reps: int
    duration_minutes: int
    windows: list[tuple[str, str]]


WINDOWS = (
    [("08:00", "18:00")] * 4
    + [("09:00", "12:00"), ("13:00", "17:00")] * 2
    + [
        ("08:00", "10:00"),
        ("10:00", "12:00"),
        ("14:00", "16:00"),
        ("16:00", "18:00"),
    ]
)


def build_lot_day(app, shape: DayShape, code: str, seed: int = 7) -> tuple[int, date, dict[int, str]]:
    from field_ops.accounts.service import create_account

    visits, reps = shape.visits, shape.reps
    rng = random.Random(seed)
    zone = ZoneInfo(ZONE)
    day = datetime.now(zone).date() + timedelta(days=2)
    with app.app_context(), transaction() as session:
        lot = Dealership(
            code=code,
            name="Benchmark Lot",
            address_line1="1201 SE Walton Blvd",
            city="Bentonville",
            state="AR",
            postal_code="72712",
            latitude=LOT[0],
            longitude=LOT[1],
            timezone=ZONE,
            geocode_source="given",
        )
        session.add(lot)
        session.flush()
        if code == "FITS":
            create_user(
                session, actor=None, email="office@bench.example", name="Office", role="specialist", password=PASSWORD
            )
        for n in range(reps):
            create_user(
                session,
                actor=None,
                email=f"rep{n}.{code.lower()}@bench.example",
                name=f"Rep {n}",
                role="rep",
                password=PASSWORD,
                dealership_ids=[lot.id],
            )
        for n in range(visits):
            point = geodesic_distance(kilometers=25 * rng.random() ** 0.5).destination(LOT, rng.uniform(0, 360))
            account = create_account(
                session,
                actor=None,
                account_number=f"{code}-{n:04d}",
                dealership_id=lot.id,
                customer_name=f"Customer {n}",
                address={"line1": f"{n} Main St", "city": "Bentonville", "state": "AR", "postal_code": "72712"},
                latitude=round(point.latitude, 6),
                longitude=round(point.longitude, 6),
                days_past_due=rng.randint(1, 120),
                amount_due=Decimal("100.00"),
            )
            start, end = rng.choice(shape.windows)
            window_start = datetime.combine(day, datetime.strptime(start, "%H:%M").time(), tzinfo=zone)
            window_end = datetime.combine(day, datetime.strptime(end, "%H:%M").time(), tzinfo=zone)
            session.add(
                Visit(
                    account=account,
                    dealership_id=lot.id,
                    kind="personal_visit",
                    scheduled_date=day,
                    window_start=window_start.astimezone(UTC),
                    window_end=window_end.astimezone(UTC),
                    duration_minutes=shape.duration_minutes,
                    priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                    status="scheduled",
                )
            )
        session.flush()
        priorities = dict(session.execute(select(Visit.id, Visit.priority).where(Visit.dealership_id == lot.id)).all())
        return lot.id, day, priorities


PRIORITIES = ("urgent", "high", "normal", "low")


@dataclass(frozen=True)
class PlanRun:
    wall: float
    placed: int
    km: float
    by_priority: tuple[int, ...]  # placed urgent, high, normal, low

    def __str__(self) -> str:
        return f"({self.wall:.2f} s, {self.placed}, {self.km:.1f} km, {'/'.join(map(str, self.by_priority))})"


def plan_once(client, headers, lot_id: int, day: date, priorities: dict[int, str]) -> PlanRun:
    started = time.perf_counter()
    response = client.post(f"/api/v1/dealerships/{lot_id}/route-plans", json={"date": day.isoformat()}, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    placed = [priorities[stop["visit_id"]] for route in body["routes"] for stop in route["stops"]]
    by_priority = tuple(placed.count(priority) for priority in PRIORITIES)
    return PlanRun(elapsed, len(placed), sum(route["total_km"] for route in body["routes"]), by_priority)


DAYS = {
    "fits": DayShape(visits=120, reps=6, duration_minutes=15, windows=WINDOWS),
    "overfull": DayShape(visits=150, reps=6, duration_minutes=20, windows=WINDOWS[:4] + TIGHT_WINDOWS * 2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--long-budget", type=float, default=30.0)
    parser.add_argument("--days", nargs="+", default=list(DAYS), choices=list(DAYS))
    parser.add_argument("--database-url", default=POSTGRES)
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        with app.app_context():
            migrations.upgrade(get_engine())
        lots = {name: build_lot_day(app, DAYS[name], name.upper()) for name in dict.fromkeys(["fits", *args.days])}
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": "office@bench.example", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        budget = app.config["ROUTING_TIME_LIMIT_SECONDS"]
        solver.warm_up(wait=True)  # as wsgi.py does when the server starts
        print(f"database {make_url(url).get_backend_name()}, budget {budget:g} s, median of {args.runs}")
        for name in args.days:
            shape, (lot_id, day, priorities) = DAYS[name], lots[name]
            app.config["ROUTING_TIME_LIMIT_SECONDS"] = budget
            runs = [plan_once(client, headers, lot_id, day, priorities) for _ in range(args.runs)]
            wall = statistics.median(run.wall for run in runs)
            placed = statistics.median(run.placed for run in runs)
            km = statistics.median(run.km for run in runs)
            app.config["ROUTING_TIME_LIMIT_SECONDS"] = args.long_budget
            long = plan_once(client, headers, lot_id, day, priorities)
            offered = "/".join(str(list(priorities.values()).count(priority)) for priority in PRIORITIES)
            print(f"{name}: {shape.visits} visits of {shape.duration_minutes} min, {shape.reps} reps")
            print(
                f"  runs (wall, placed, km, placed urgent/high/normal/low of {offered}): " + ", ".join(map(str, runs))
            )
            print(
                f"  median wall {wall:.2f} s (budget + {wall - budget:.2f} s), "
                f"placed {placed:g}/{shape.visits}, {km:.1f} km"
            )
            print(f"  at {args.long_budget:g} s: {long}")
            print(
                f"  placed {placed - long.placed:+g} vs {args.long_budget:g} s, km ratio {km / long.km:.4f}", flush=True
            )


if __name__ == "__main__":
    main()
