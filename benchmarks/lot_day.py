"""A realistic lot-day planned through the HTTP API: 120 visits within 25 km of a lot, 6 reps,
mixed windows. Prints the wall time of `POST /dealerships/{id}/route-plans` (median of runs),
visits placed and total km, next to the same request with PyVRP given 30 s.

    python -m benchmarks.lot_day [--runs 3] [--long-budget 30]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from geopy.distance import distance as geodesic_distance

from field_ops import create_app
from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.dealerships.models import Dealership
from field_ops.users.service import create_user
from field_ops.visits.models import Visit

LOT = (36.359, -94.1966)
ZONE = "America/Chicago"
PASSWORD = "benchmark-password"
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


def build_lot_day(app, visits: int, reps: int, seed: int = 7) -> tuple[int, date]:
    from field_ops.accounts.service import create_account

    rng = random.Random(seed)
    zone = ZoneInfo(ZONE)
    day = datetime.now(zone).date() + timedelta(days=2)
    with app.app_context(), transaction() as session:
        lot = Dealership(
            code="BENCH",
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
        create_user(
            session, actor=None, email="office@bench.example", name="Office", role="specialist", password=PASSWORD
        )
        for n in range(reps):
            create_user(
                session,
                actor=None,
                email=f"rep{n}@bench.example",
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
                account_number=f"B-{n:04d}",
                dealership_id=lot.id,
                customer_name=f"Customer {n}",
                address={"line1": f"{n} Main St", "city": "Bentonville", "state": "AR", "postal_code": "72712"},
                latitude=round(point.latitude, 6),
                longitude=round(point.longitude, 6),
                days_past_due=rng.randint(1, 120),
                amount_due=Decimal("100.00"),
            )
            start, end = rng.choice(WINDOWS)
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
                    duration_minutes=15,
                    priority=rng.choice(["low", "normal", "normal", "high", "urgent"]),
                    status="scheduled",
                )
            )
        return lot.id, day


def plan_once(client, headers, lot_id: int, day: date) -> tuple[float, int, float]:
    started = time.perf_counter()
    response = client.post(f"/api/v1/dealerships/{lot_id}/route-plans", json={"date": day.isoformat()}, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    placed = sum(len(route["stops"]) for route in body["routes"])
    return elapsed, placed, sum(route["total_km"] for route in body["routes"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--visits", type=int, default=120)
    parser.add_argument("--reps", type=int, default=6)
    parser.add_argument("--long-budget", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "TESTING": True})
        with app.app_context():
            migrations.upgrade(get_engine())
        lot_id, day = build_lot_day(app, args.visits, args.reps)
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": "office@bench.example", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        budget = app.config["ROUTING_TIME_LIMIT_SECONDS"]
        runs = [plan_once(client, headers, lot_id, day) for _ in range(args.runs)]
        wall = statistics.median(run[0] for run in runs)
        _, placed, km = runs[-1]
        app.config["ROUTING_TIME_LIMIT_SECONDS"] = args.long_budget
        _, long_placed, long_km = plan_once(client, headers, lot_id, day)
    print(f"lot-day: {args.visits} visits, {args.reps} reps, solver budget {budget:g} s")
    times = ", ".join(f"{run[0]:.2f}" for run in runs)
    print(f"  POST route-plans wall time: median {wall:.2f} s over {args.runs} runs ({times})")
    print(f"  placed {placed}/{args.visits}, total {km:.1f} km")
    print(f"  PyVRP at {args.long_budget:g} s: placed {long_placed}/{args.visits}, total {long_km:.1f} km")
    print(f"  km ratio (default / {args.long_budget:g} s): {km / long_km:.4f}")


if __name__ == "__main__":
    main()
