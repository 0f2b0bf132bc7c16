"""Offline sync at scale on PostgreSQL, through the HTTP API: a rep whose phone is 10,000 changes
behind catches up in pages of 500, while other reps' changes fill the log around theirs.
Prints the total and per-page wall time.

    python -m benchmarks.sync [--changes 10000] [--page 500] [--noise 30000]

Uses BENCH_DATABASE_URL (default: the local PostgreSQL server); a throwaway database is
created and dropped.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text, update

from benchmarks import scratch_database
from field_ops import create_app
from field_ops.accounts.models import Account
from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.dealerships.models import Dealership
from field_ops.sync.models import ChangeLogEntry
from field_ops.users.service import create_user
from field_ops.visits.models import Visit

ZONE = ZoneInfo("America/Chicago")
PASSWORD = "benchmark-password"
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def build(app, visits_per_rep: int, reps: int) -> list[int]:
    """A lot, `reps` reps, and one account per visit; returns the reps' ids."""
    with app.app_context(), transaction() as session:
        lot = Dealership(code="BIG", name="Big Lot", address_line1="1 Main St", city="Bentonville",
                         state="AR", postal_code="72712", latitude=36.359, longitude=-94.1966,
                         timezone="America/Chicago")  # fmt: skip
        session.add(lot)
        session.flush()
        rep_ids = [create_user(session, actor=None, email=f"rep{n}@bench.example", name=f"Rep {n}", role="rep",
                               password=PASSWORD, dealership_ids=[lot.id]).id for n in range(reps)]  # fmt: skip
        session.add_all(
            Account(account_number=f"BIG-{n:06d}", dealership_id=lot.id, customer_name=f"Customer {n}",
                    phone="+14795550100", address_line1=f"{n} Oak St", city="Bentonville", state="AR",
                    postal_code="72712", latitude=36.36, longitude=-94.2, timezone="America/Chicago",
                    geocode_source="given", days_past_due=n % 120, amount_due=Decimal("150.00"),
                    balance=Decimal("9000.00"), cease_contact=False, attorney_represented=False,
                    bankruptcy=False, do_not_visit=False)
            for n in range(visits_per_rep * reps)
        )  # fmt: skip
    return rep_ids


def change(app, rep_ids: list[int], visits_per_rep: int) -> None:
    """Book `visits_per_rep` visits for each rep, then change each of them twice (three transactions)."""
    day = datetime.now(ZONE).date() + timedelta(days=2)
    start = datetime.combine(day, datetime.min.time(), tzinfo=ZONE) + timedelta(hours=9)
    with app.app_context(), transaction() as session:
        lot_id = session.scalar(select(Dealership.id))
        account_ids = list(session.scalars(select(Account.id).order_by(Account.id)))
        session.add_all(
            Visit(account_id=account_ids[n], dealership_id=lot_id, kind="personal_visit", scheduled_date=day,
                  window_start=start.astimezone(UTC), window_end=(start + timedelta(hours=3)).astimezone(UTC),
                  status="scheduled", priority="normal", assigned_rep_id=rep_ids[n % len(rep_ids)])
            for n in range(visits_per_rep * len(rep_ids))
        )  # fmt: skip
    for note in ("call first", "gate code 12"):
        with app.app_context(), transaction() as session:
            session.execute(update(Visit).values(notes=note))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=10000, help="log rows concerning the syncing rep")
    parser.add_argument("--page", type=int, default=500)
    parser.add_argument("--reps", type=int, default=4, help="the syncing rep and the others making noise")
    parser.add_argument("--profile", action="store_true", help="print the catch-up's cProfile (slower)")
    args = parser.parse_args()
    # Each visit makes 4 rows for its rep: booked (with its account's row), then two changes.
    visits_per_rep = args.changes // 4
    with scratch_database(os.environ.get("BENCH_DATABASE_URL", SERVER)) as url:
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        with app.app_context():
            migrations.upgrade(get_engine())
        rep_ids = build(app, visits_per_rep, args.reps)
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": "rep0@bench.example", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        cursor = client.get("/api/v1/sync", headers=headers).get_json()["cursor"]  # caught up: nothing yet
        change(app, rep_ids, visits_per_rep)
        with app.app_context(), transaction() as session:
            total_rows = session.scalar(select(func.count()).select_from(ChangeLogEntry))
            mine = session.scalar(select(func.count()).where(ChangeLogEntry.rep_id == rep_ids[0]))
            session.execute(text("ANALYZE"))  # as autovacuum would have after the bulk load

        page_times, items, pages = [], 0, 0
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        started, cpu_started = time.perf_counter(), time.process_time()
        while True:
            page_started = time.perf_counter()
            response = client.get("/api/v1/sync", query_string={"since": cursor, "limit": args.page}, headers=headers)
            page_times.append(time.perf_counter() - page_started)
            body = response.get_json()
            assert response.status_code == 200, body
            pages += 1
            items += sum(len(body[key]) for key in ("visits", "routes", "accounts", "lot_issues", "removed"))
            cursor = body["cursor"]
            if not body["has_more"]:
                break
        total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        app.extensions["db_engine"].dispose()
    print(f"change log: {total_rows} rows, {mine} of them the syncing rep's (others: {args.reps - 1} reps)")
    print(f"catch-up of {mine} changes in pages of {args.page}: {total:.2f} s total, {pages} pages, {items} items")
    print(f"CPU time of the API process (the machine's other load left out): {cpu:.2f} s")
    print(f"per page: median {statistics.median(page_times) * 1000:.0f} ms, max {max(page_times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
