"""The cross-lot lot-issue summary at scale, through the HTTP API on PostgreSQL: 50 lots x 2,000
issues (100,000) in every status, severity and category, filed over the last 20 weeks. Prints the
median wall time of `GET /lot-issues/summary` (target: under 200 ms), and of one lot's summary
and an overdue-filtered list page next to it.

    python -m benchmarks.lot_issues [--runs 7] [--lots 50] [--issues 2000] [--database-url URL]

Needs a PostgreSQL server (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres); the
benchmark creates its own database there and drops it afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from benchmarks import scratch_database
from field_ops import create_app
from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.dealerships.models import Dealership
from field_ops.lot_issues.models import DEFAULT_DEPARTMENT, IssueCategory, IssueStatus, LotIssue, due_at_for
from field_ops.users.service import create_user

PASSWORD = "benchmark-password"
ZONES = ["America/Chicago", "America/Denver", "America/Phoenix", "America/New_York", "America/Los_Angeles"]
STATUS_WEIGHTS = {"open": 3, "acknowledged": 2, "in_progress": 2, "resolved": 3, "closed": 10}
SEVERITY_WEIGHTS = {"critical": 1, "high": 3, "medium": 6, "low": 4}


def build(app, lots: int, issues: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    statuses, status_weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    severities, severity_weights = zip(*SEVERITY_WEIGHTS.items(), strict=True)
    categories = [c.value for c in IssueCategory]
    with app.app_context(), transaction() as session:
        office = create_user(
            session, actor=None, email="office@bench.example", name="Office", role="specialist", password=PASSWORD
        )
        dealerships = [
            Dealership(code=f"B{n:03d}", name=f"Lot {n}", address_line1="1 Main St", city="Bentonville",
                       state="AR", postal_code="72712", latitude=36.36, longitude=-94.2,
                       timezone=ZONES[n % len(ZONES)], geocode_source="given")
            for n in range(lots)
        ]  # fmt: skip
        session.add_all(dealerships)
        session.flush()
        for dealership in dealerships:
            zone = ZoneInfo(dealership.timezone)
            rows = []
            for _ in range(issues):
                created_at = now - timedelta(seconds=rng.randint(0, 140 * 86400))
                status = rng.choices(statuses, status_weights)[0]
                severity = rng.choices(severities, severity_weights)[0]
                category = rng.choice(categories)
                resolved = status in (IssueStatus.RESOLVED, IssueStatus.CLOSED)
                rows.append(
                    {
                        "dealership_id": dealership.id,
                        "category": category,
                        "severity": severity,
                        "title": f"{category} issue",
                        "status": status,
                        "assigned_department": DEFAULT_DEPARTMENT[IssueCategory(category)].value,
                        "reported_by": office.id,
                        "resolution": "fixed" if resolved else None,
                        "created_at": created_at,
                        "created_on": created_at.astimezone(zone).date(),
                        "updated_at": created_at,
                        "acknowledged_at": created_at if status != IssueStatus.OPEN else None,
                        "resolved_at": created_at if resolved else None,
                        "closed_at": created_at if status == IssueStatus.CLOSED else None,
                        "due_at": due_at_for(severity, created_at),
                    }
                )
            session.connection().execute(insert(LotIssue.__table__), rows)
    # What autovacuum does after a bulk load: statistics, and the visibility map index-only scans use.
    with app.app_context(), get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE lot_issues"))


def timed(client, headers, path: str, runs: int) -> list[float]:
    client.get(path, headers=headers)  # warm-up: connection, statement cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--lots", type=int, default=50)
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with scratch_database(args.database_url) as url:
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        with app.app_context():
            migrations.upgrade(get_engine())
        started = time.perf_counter()
        build(app, args.lots, args.issues)
        built = time.perf_counter() - started
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": "office@bench.example", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        ranking = client.get("/api/v1/lot-issues/summary", headers=headers).get_json()
        lot_id = ranking[0]["dealership_id"]
        figures = {
            "GET /lot-issues/summary": timed(client, headers, "/api/v1/lot-issues/summary", args.runs),
            "GET /dealerships/{id}/lot-issues/summary": timed(
                client, headers, f"/api/v1/dealerships/{lot_id}/lot-issues/summary", args.runs
            ),
            "GET /lot-issues?overdue=true (page 1)": timed(
                client, headers, "/api/v1/lot-issues?overdue=true&page_size=100", args.runs
            ),
        }
        with app.app_context():
            get_engine().dispose()
    total = args.lots * args.issues
    print(f"lot issues: {args.lots} lots x {args.issues} issues = {total} on PostgreSQL (built in {built:.1f} s)")
    for label, times in figures.items():
        runs = ", ".join(f"{t:.0f}" for t in times)
        print(f"  {label}: median {statistics.median(times):.0f} ms over {args.runs} runs ({runs})")
    print(f"  worst lot: {ranking[0]}")


if __name__ == "__main__":
    main()
