"""Schedule files at spreadsheet scale, through the HTTP API on PostgreSQL: export 2,000 rows as
XLSX and CSV, and import 5,000 rows (dry run, then for real). Prints the median wall time of each
against its target.

    python -m benchmarks.schedule_files [--runs 3] [--database-url postgresql+psycopg://...]

The database server's URL defaults to $BENCH_DATABASE_URL, else the local PostgreSQL; a scratch
database is created on it and dropped afterwards. `--database-url sqlite` runs on SQLite instead.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from benchmarks import scratch_database
from field_ops import create_app
from field_ops.accounts.models import Account
from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.dealerships.models import Dealership
from field_ops.users.service import create_user
from field_ops.visits.models import Visit

ZONE = ZoneInfo("America/Chicago")
PASSWORD = "benchmark-password"


def build(app, accounts: int, visits: int):
    day = datetime.now(ZONE).date() + timedelta(days=2)
    with app.app_context(), transaction() as session:
        lot = Dealership(code="BIG", name="Big Lot", address_line1="1 Main St", city="Bentonville",
                         state="AR", postal_code="72712", latitude=36.359, longitude=-94.1966,
                         timezone="America/Chicago")  # fmt: skip
        session.add(lot)
        session.flush()
        create_user(
            session, actor=None, email="office@bench.example", name="Office", role="specialist", password=PASSWORD
        )
        reps = [create_user(session, actor=None, email=f"rep{n}@bench.example", name=f"Rep {n}", role="rep",
                            password=PASSWORD, dealership_ids=[lot.id]) for n in range(8)]  # fmt: skip
        rows = [
            Account(account_number=f"BIG-{n:05d}", dealership_id=lot.id, customer_name=f"Customer {n}",
                    phone="+14795550100", address_line1=f"{n} Oak St", city="Bentonville", state="AR",
                    postal_code="72712", latitude=36.36, longitude=-94.2, timezone="America/Chicago",
                    geocode_source="given", days_past_due=n % 120, amount_due=Decimal("150.00"),
                    balance=Decimal("9000.00"), cease_contact=False, attorney_represented=False,
                    bankruptcy=False, do_not_visit=False)
            for n in range(accounts)
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        start = datetime.combine(day, datetime.min.time(), tzinfo=ZONE) + timedelta(hours=9)
        session.add_all(
            Visit(account_id=rows[n].id, dealership_id=lot.id, kind="personal_visit", scheduled_date=day,
                  window_start=start.astimezone(UTC), window_end=(start + timedelta(hours=3)).astimezone(UTC),
                  status="scheduled", priority="normal", assigned_rep_id=reps[n % 8].id, notes="gate code 12")
            for n in range(visits)
        )  # fmt: skip
        return lot.id, day


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--export-rows", type=int, default=2000)
    parser.add_argument("--import-rows", type=int, default=5000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    with scratch_database(args.database_url) as database_url:
        app = create_app({"DATABASE_URL": database_url, "TESTING": True})
        with app.app_context():
            migrations.upgrade(get_engine())
        lot_id, day = build(app, max(args.import_rows, args.export_rows), args.export_rows)
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": "office@bench.example", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}

        def export(kind: str):
            response = client.get(
                f"/api/v1/schedules/{day.isoformat()}?dealership_id={lot_id}&format={kind}", headers=headers
            )
            assert response.status_code == 200
            return response.data

        exports = [timed(lambda: export("xlsx")) for _ in range(args.runs)]
        csv_exports = [timed(lambda: export("csv")) for _ in range(args.runs)]
        other_day = day + timedelta(days=1)
        sheet = "Account #,Date,Time,Rep,Notes\r\n" + "".join(
            f"BIG-{n:05d},{other_day.isoformat()},9am-12pm,Rep {n % 8},row {n}\r\n" for n in range(args.import_rows)
        )

        def run_import(dry_run: bool):
            response = client.post(
                f"/api/v1/schedules/import?dealership_id={lot_id}&dry_run={str(dry_run).lower()}",
                data={"file": (io.BytesIO(sheet.encode()), "day.csv")},
                headers=headers,
                content_type="multipart/form-data",
            )
            assert response.status_code == 200, response.get_json()
            return response.get_json()

        dry_runs = [timed(lambda: run_import(True)) for _ in range(args.runs)]
        reals = []
        for n in range(args.runs):
            if n:  # book the same rows again on the next free day
                other_day += timedelta(days=7)
                sheet = sheet.replace((other_day - timedelta(days=7)).isoformat(), other_day.isoformat())
            reals.append(timed(lambda: run_import(False)))
    database = "SQLite" if args.database_url == "sqlite" else "PostgreSQL"
    print(f"schedule files on {database}, medians of {args.runs} (target in brackets)")
    report(f"export {args.export_rows} rows as XLSX", exports, 0.8, f"{len(exports[0][1]) / 1024:.0f} KiB")
    report(f"export {args.export_rows} rows as CSV", csv_exports, None, f"{len(csv_exports[0][1]) / 1024:.0f} KiB")
    report(f"import {args.import_rows} rows, dry run", dry_runs, 3.0, f"{dry_runs[0][1]['valid']} valid")
    report(f"import {args.import_rows} rows, real", reals, 3.0, f"{reals[0][1]['created']} created")


def report(label: str, runs: list[tuple[float, object]], target: float | None, note: str) -> None:
    median = statistics.median(t for t, _ in runs)
    verdict = "" if target is None else f" [<= {target:.1f} s: {'met' if median <= target else 'MISSED'}]"
    print(f"{label}: median {median:.2f} s{verdict} ({note})")


if __name__ == "__main__":
    main()
