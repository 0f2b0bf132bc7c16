"""Collection figures and campaigns at scale, on PostgreSQL, through the HTTP API.

1. The cross-lot collections summary (`GET /collections/summary`) over 50 lots x 30 days of
   visits (40 a lot-day: 60,000 visits, outcomes and check-ins, with the payments, promises and
   follow-ups they set in motion), median of runs; target < 500 ms.
2. A 1,000-account campaign (`POST /campaigns`), dry run and real.

    python -m benchmarks.collections [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A throwaway database is created on the server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from benchmarks import scratch_database
from field_ops import create_app
from field_ops.accounts.models import Account
from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.dealerships.models import Dealership
from field_ops.follow_ups.models import FollowUp
from field_ops.payments.models import Payment, Promise
from field_ops.users.service import create_user
from field_ops.visits.models import Outcome, Visit

ZONE = "America/Chicago"
PASSWORD = "benchmark-password"
LOT = {
    "address_line1": "1201 SE Walton Blvd",
    "city": "Bentonville",
    "state": "AR",
    "postal_code": "72712",
    "latitude": 36.359,
    "longitude": -94.1966,
    "timezone": ZONE,
    "geocode_source": "given",
}
OUTCOMES = ["payment_collected", "promise_to_pay", "not_home", "refused", "payment_collected", "vehicle_not_present"]


def _account_rows(lot_id: int, code: str, count: int, rng: random.Random) -> list[dict]:
    return [
        {
            "account_number": f"{code}-{n:05d}",
            "dealership_id": lot_id,
            "customer_name": f"Customer {code} {n}",
            "phone": None,
            "address_line1": f"{n} Main St",
            "address_line2": None,
            "city": "Bentonville",
            "state": "AR",
            "postal_code": "72712",
            "latitude": 36.37 + rng.uniform(-0.1, 0.1),
            "longitude": -94.21 + rng.uniform(-0.1, 0.1),
            "timezone": ZONE,
            "geocode_source": "given",
            "days_past_due": rng.randint(1, 150),
            "amount_due": Decimal(rng.randrange(5000, 90000)) / 100,
            "balance": Decimal("5000.00"),
        }
        for n in range(count)
    ]


def build_history(app, lots: int, days: int, per_day: int, seed: int = 7) -> tuple[datetime, datetime]:
    """`lots` lots, each with 200 accounts, 2 reps and `per_day` visits on each of the last `days` days."""
    rng = random.Random(seed)
    zone = ZoneInfo(ZONE)
    today = datetime.now(zone).date()
    first = today - timedelta(days=days)
    with app.app_context(), transaction() as session:
        create_user(
            session, actor=None, email="office@bench.example", name="Office", role="specialist", password=PASSWORD
        )
        for n in range(lots):
            lot = Dealership(code=f"L{n:03d}", name=f"Lot {n}", **LOT)
            session.add(lot)
            session.flush()
            reps = [
                create_user(
                    session,
                    actor=None,
                    email=f"rep{n}-{r}@bench.example",
                    name=f"Rep {n}-{r}",
                    role="rep",
                    password=PASSWORD,
                    dealership_ids=[lot.id],
                ).id
                for r in range(2)
            ]
            account_ids = list(
                session.scalars(
                    insert(Account).returning(Account.id, sort_by_parameter_order=True),
                    _account_rows(lot.id, lot.code, 200, rng),
                )
            )
            visits, plans = [], []
            for d in range(days):
                day = first + timedelta(days=d)
                for _ in range(per_day):
                    start = datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(
                        hours=rng.randint(9, 16)
                    )
                    status = rng.choice(["completed", "completed", "completed", "missed", "cancelled", "scheduled"])
                    checked = status == "completed"
                    visits.append(
                        {
                            "account_id": rng.choice(account_ids),
                            "dealership_id": lot.id,
                            "kind": "personal_visit",
                            "scheduled_date": day,
                            "window_start": start,
                            "window_end": start + timedelta(hours=1),
                            "priority": "normal",
                            "status": status,
                            "assigned_rep_id": rng.choice(reps),
                            "checked_in_at": start + timedelta(minutes=10) if checked else None,
                            "on_site": (rng.random() < 0.85) if checked else None,
                        }
                    )
                    plans.append(rng.choice(OUTCOMES) if checked else None)
            visit_ids = list(session.scalars(insert(Visit).returning(Visit.id, sort_by_parameter_order=True), visits))
            outcomes = [
                {
                    "visit_id": visit_id,
                    "outcome": code,
                    "amount_collected": Decimal("100.00") if code == "payment_collected" else None,
                    "promise_date": today + timedelta(days=7) if code == "promise_to_pay" else None,
                    "promise_amount": Decimal("150.00") if code == "promise_to_pay" else None,
                    "recorded_at": visit["window_start"] + timedelta(minutes=20),
                    "recorded_by": visit["assigned_rep_id"],
                }
                for visit_id, visit, code in zip(visit_ids, visits, plans, strict=True)
                if code
            ]
            if outcomes:
                session.execute(insert(Outcome), outcomes)
            # What those outcomes set in motion, as the outcome service writes it: payments,
            # promises (settled at random), and a rebook follow-up per missed visit.
            done = [(visit_id, visit, code) for visit_id, visit, code in zip(visit_ids, visits, plans, strict=True)]
            payments = [
                {
                    "account_id": visit["account_id"],
                    "dealership_id": lot.id,
                    "amount": Decimal("100.00"),
                    "paid_on": visit["scheduled_date"],
                    "method": "cash",
                    "visit_id": visit_id,
                    "recorded_by": visit["assigned_rep_id"],
                }
                for visit_id, visit, code in done
                if code == "payment_collected"
            ]
            if payments:
                session.execute(insert(Payment), payments)
            promises = [
                {
                    "account_id": visit["account_id"],
                    "dealership_id": lot.id,
                    "visit_id": visit_id,
                    "made_on": visit["scheduled_date"],
                    "promise_date": visit["scheduled_date"] + timedelta(days=7),
                    "promise_amount": Decimal("150.00"),
                    "paid_amount": Decimal("0.00"),
                    "status": rng.choice(["kept", "broken", "pending"]),
                }
                for visit_id, visit, code in done
                if code == "promise_to_pay"
            ]
            if promises:
                session.execute(insert(Promise), promises)
            rebooks = [
                {
                    "kind": "rebook_missed_visit",
                    "status": rng.choice(["open", "done"]),
                    "cause": f"visit:{visit_id}:rebook_missed_visit",
                    "dealership_id": lot.id,
                    "account_id": visit["account_id"],
                    "visit_id": visit_id,
                    "due_date": visit["scheduled_date"] + timedelta(days=1),
                }
                for visit_id, visit, _ in done
                if visit["status"] == "missed"
            ]
            if rebooks:
                session.execute(insert(FollowUp), rebooks)
    with app.app_context(), get_engine().begin() as connection:
        connection.execute(text("ANALYZE"))
    return first, today - timedelta(days=1)


def build_campaign_lot(app, accounts: int) -> int:
    with app.app_context(), transaction() as session:
        lot = Dealership(code="CAMP", name="Campaign lot", **LOT)
        session.add(lot)
        session.flush()
        rows = _account_rows(lot.id, "CAMP", accounts, random.Random(11))
        for row in rows:
            row["days_past_due"] = 31 + row["days_past_due"] % 60
        session.execute(insert(Account), rows)
        return lot.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--lots", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=40)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        with app.app_context():
            migrations.upgrade(get_engine())
        started = time.perf_counter()
        first, last = build_history(app, args.lots, args.days, args.per_day)
        built = time.perf_counter() - started
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": "office@bench.example", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        url = f"/api/v1/collections/summary?from={first}&to={last}"
        times = []
        for _ in range(args.runs + 1):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.get_json()
        summary = response.get_json()
        counted = sum(entry["visits"]["booked"] for entry in summary)
        print(
            f"history: {args.lots} lots x {args.days} days x {args.per_day} visits ({counted} visits), "
            f"built in {built:.1f} s"
        )
        runs = ", ".join(f"{t * 1000:.0f}" for t in times[1:])
        print(
            f"  GET /collections/summary: median {statistics.median(times[1:]) * 1000:.0f} ms "
            f"({runs} ms; first {times[0] * 1000:.0f} ms)"
        )

        lot_id = build_campaign_lot(app, args.accounts)
        today = datetime.now(ZoneInfo(ZONE)).date()
        body = {
            "dealership_id": lot_id,
            "name": "Benchmark push",
            "segment": {"buckets": ["31-60", "61-90"]},
            "from": (today + timedelta(days=1)).isoformat(),
            "to": (today + timedelta(days=20)).isoformat(),
            "window_start": "09:00",
            "window_end": "17:00",
            "max_visits_per_day": 60,
            "partial": True,
        }
        for dry_run in (True, False):
            started = time.perf_counter()
            response = client.post("/api/v1/campaigns", json={**body, "dry_run": dry_run}, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == (200 if dry_run else 201), response.get_json()
            results = response.get_json()["results"]
            booked = sum(1 for r in results if r["status"] == "booked")
            label = "dry run" if dry_run else "real"
            print(f"  POST /campaigns ({label}): {len(results)} accounts, {booked} booked, {elapsed:.2f} s")


if __name__ == "__main__":
    main()
