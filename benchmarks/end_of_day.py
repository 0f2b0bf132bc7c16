"""The end-of-day job for 50 lots x 200 visits of yesterday (three in four still open, so they
become missed and raise follow-ups) and 20 promises per lot due yesterday, half of them short.
Prints the job's wall time (target: under 10 s on PostgreSQL) and what it closed.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres python -m benchmarks.end_of_day

A scratch database is created next to the one named (dropped afterwards); without DATABASE_URL,
a temporary SQLite file is used.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.engine import make_url

from benchmarks import scratch_database
from field_ops import create_app
from field_ops.accounts.models import Account
from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.dealerships.models import Dealership
from field_ops.jobs.service import counts_total, run_end_of_day
from field_ops.payments.models import Promise
from field_ops.visits.models import Visit

ZONES = ["America/Chicago", "America/Denver", "America/Phoenix", "America/New_York", "America/Los_Angeles"]
ADDRESS = {"address_line1": "1 Main St", "city": "Bentonville", "state": "AR", "postal_code": "72712"}


def load(app, lots: int, visits_per_lot: int) -> None:
    now = datetime.now(UTC)
    with app.app_context(), transaction() as session:
        for n in range(lots):
            zone = ZONES[n % len(ZONES)]
            lot = Dealership(
                code=f"B{n:03d}", name=f"Lot {n}", timezone=zone, latitude=36.36, longitude=-94.2, **ADDRESS
            )
            session.add(lot)
            session.flush()
            yesterday = now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
            accounts = (
                session.execute(
                    insert(Account).returning(Account.id),
                    [
                        {
                            "account_number": f"B{n:03d}-{i:04d}",
                            "dealership_id": lot.id,
                            "customer_name": f"Customer {i}",
                            "timezone": zone,
                            "created_at": now,
                            "updated_at": now,
                            **ADDRESS,
                        }
                        for i in range(visits_per_lot)
                    ],
                )
                .scalars()
                .all()
            )
            start = datetime.combine(yesterday, datetime.min.time(), tzinfo=ZoneInfo(zone)) + timedelta(hours=10)
            session.execute(
                insert(Visit),
                [
                    {
                        "account_id": account_id,
                        "dealership_id": lot.id,
                        "kind": "personal_visit",
                        "scheduled_date": yesterday,
                        "window_start": start,
                        "window_end": start + timedelta(hours=4),
                        "status": "completed" if i % 4 == 0 else "scheduled",
                        "priority": "normal",
                        "duration_minutes": 15,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, account_id in enumerate(accounts)
                ],
            )
            session.execute(
                insert(Promise),
                [
                    {
                        "account_id": account_id,
                        "dealership_id": lot.id,
                        "made_on": yesterday - timedelta(days=3),
                        "promise_date": yesterday,
                        "promise_amount": Decimal("100.00"),
                        "paid_amount": Decimal("0.00"),
                        "status": "pending",
                        "created_at": now,
                    }
                    for account_id in accounts[:20]
                ],
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=50)
    parser.add_argument("--visits", type=int, default=200)
    args = parser.parse_args()
    with scratch_database(os.environ.get("DATABASE_URL", "sqlite")) as database_url:
        app = create_app({"DATABASE_URL": database_url, "TESTING": True})
        with app.app_context():
            migrations.upgrade(get_engine())
        load(app, args.lots, args.visits)
        with app.app_context():
            started = time.perf_counter()
            report = run_end_of_day(app)
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            second = run_end_of_day(app)
            again = time.perf_counter() - started
            get_engine().dispose()
        dialect = make_url(database_url).get_backend_name()
        print(f"database: {dialect}; {args.lots} lots x {args.visits} visits")
        print(f"end-of-day: {elapsed:.2f} s for {len(report.runs)} lot-days; {counts_total(report)}")
        print(f"failed lot-days: {len(report.failed)}; second run: {again:.2f} s, {len(second.runs)} lot-days")


if __name__ == "__main__":
    main()
