"""APScheduler inside the service: every SCHEDULER_INTERVAL_MINUTES, close the lots whose
midnight has passed, purge expired idempotency records, and (when AUTO_PLAN_AT is set) plan
tomorrow for the lots whose evening has come. Started by the first request a
process serves, when SCHEDULER_ENABLED; every worker may run it, the job lock lets one through."""

from __future__ import annotations

import atexit
import logging
import threading
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from field_ops.core import idempotency
from field_ops.core.db import transaction, utcnow
from field_ops.jobs.evening import parse_plan_time, run_evening_plan
from field_ops.jobs.service import describe, run_end_of_day

log = logging.getLogger(__name__)


def tick(app: Flask, now: datetime | None = None) -> None:
    """One scheduled run; never raises (a failure is logged and in job_runs). Each job runs even
    when the one before it failed."""
    with app.app_context():
        try:
            report = run_end_of_day(app, now=now)
            for line in describe(report):
                log.info("end-of-day: %s", line)
            with transaction(app) as session:
                idempotency.purge_expired(
                    session, retention_days=app.config["IDEMPOTENCY_RETENTION_DAYS"], now=utcnow()
                )
        except Exception:
            log.exception("scheduled end-of-day run failed")
        try:
            evening = run_evening_plan(app, now=now)
            for run in evening.runs:
                log.info("evening plan: %s dealership %s: %s %s", run.day, run.dealership_id, run.status, run.counts)
        except Exception:
            log.exception("scheduled evening plan failed")


def init_app(app: Flask) -> None:
    if not app.config["SCHEDULER_ENABLED"]:
        return
    parse_plan_time(app.config["AUTO_PLAN_AT"])  # a mistyped time stops the start, not each tick
    started = threading.Event()
    guard = threading.Lock()

    @app.before_request
    def _start_scheduler() -> None:
        if started.is_set():
            return
        with guard:
            if started.is_set():
                return
            scheduler = BackgroundScheduler(timezone="UTC")
            scheduler.add_job(
                tick,
                "interval",
                args=[app],
                minutes=app.config["SCHEDULER_INTERVAL_MINUTES"],
                next_run_time=utcnow(),
                id="end_of_day",
                max_instances=1,
                coalesce=True,
            )
            scheduler.start()
            atexit.register(lambda: scheduler.shutdown(wait=False))
            started.set()
