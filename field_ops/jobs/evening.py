"""The evening plan, scheduled: each lot's tomorrow is planned once the lot-local time passes
`AUTO_PLAN_AT` (off when empty).

Each lot-day is tried until one run of it succeeds, recorded in `job_runs` (job `evening_plan`,
`day` the planned day) in the same transaction as its plan; a lot with nothing to plan, or already
planned by hand, is recorded too, so a later tick leaves it alone. A failed lot is recorded as
failed and tried again on the next tick; the other lots go on.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from field_ops.core.db import utcnow
from field_ops.jobs.locks import job_lock
from field_ops.jobs.models import JobRun, JobRunStatus
from field_ops.jobs.service import RunReport, lots_to_run, record_failed_run
from field_ops.routing.jobs import LotDayResult, lot_day_state, plan_lot_day

EVENING_PLAN = "evening_plan"
log = logging.getLogger(__name__)


def parse_plan_time(value: str) -> time | None:
    """`AUTO_PLAN_AT` as a time of day, None when empty (off). Raises ValueError when not HH:MM."""
    if not value or not value.strip():
        return None
    try:
        return datetime.strptime(value.strip(), "%H:%M").time()
    except ValueError as exc:
        raise ValueError(f"AUTO_PLAN_AT must be a lot-local time HH:MM, not {value!r}") from exc


def _planned_already(app: Flask, lot_id: int, day: date) -> bool:
    with app.extensions["db_sessionmaker"]() as session:
        return (
            session.scalar(
                select(JobRun.id)
                .where(
                    JobRun.job == EVENING_PLAN,
                    JobRun.dealership_id == lot_id,
                    JobRun.day == day,
                    JobRun.status == JobRunStatus.OK,
                )
                .limit(1)
            )
            is not None
        )


def _counts(result: LotDayResult | None, *, already_planned: bool = False) -> dict[str, int]:
    return {
        "routes": result.routes if result else 0,
        "visits_planned": result.planned if result else 0,
        "visits_unassigned": result.unassigned if result else 0,
        "already_planned": int(already_planned),
    }


def _plan_lot(app: Flask, lot_id: int, day: date, *, by_hand: bool) -> JobRun | None:
    """Plan one lot-day when it has visits and no plan, and record the run with it (by hand: only
    when there was something to plan)."""
    started = utcnow()
    try:
        with app.extensions["db_sessionmaker"]() as session:
            has_plan, has_visits = lot_day_state(session, dealership_id=lot_id, day=day)
            needs_plan = has_visits and not has_plan
            if by_hand and not needs_plan:
                return None
            result = plan_lot_day(session, dealership_id=lot_id, day=day) if needs_plan else None
            if result is not None and result.error is not None:
                return record_failed_run(
                    app,
                    job=EVENING_PLAN,
                    lot_id=lot_id,
                    day=day,
                    started=started,
                    error=f"{result.error}: {result.detail}",
                )
            run = JobRun(
                job=EVENING_PLAN,
                dealership_id=lot_id,
                day=day,
                started_at=started,
                finished_at=utcnow(),
                status=JobRunStatus.OK,
                counts=_counts(result, already_planned=has_plan),
            )
            session.add(run)
            session.commit()
        return run
    except Exception as exc:
        log.error("evening plan failed for dealership %s, day %s", lot_id, day, exc_info=exc)
        return record_failed_run(
            app, job=EVENING_PLAN, lot_id=lot_id, day=day, started=started, error=f"{type(exc).__name__}: {exc}"
        )


def run_evening_plan(
    app: Flask, *, now: datetime | None = None, dealership_id: int | None = None, by_hand: bool = False
) -> RunReport:
    """Plan tomorrow for each lot whose local time has passed AUTO_PLAN_AT and whose tomorrow has
    no successful run yet, under the job lock (another worker holding it: `skipped`).

    `by_hand` (the CLI) plans every lot's tomorrow that has visits and no plan now, whatever the
    time and earlier runs. Raises ValueError for an AUTO_PLAN_AT that is not HH:MM."""
    now = now or utcnow()
    at = parse_plan_time(app.config["AUTO_PLAN_AT"])
    report = RunReport()
    if at is None and not by_hand:
        return report
    with job_lock(app.extensions["db_engine"], EVENING_PLAN) as acquired:
        if not acquired:
            report.skipped = True
            return report
        for lot in lots_to_run(app, dealership_id):
            try:
                local = now.astimezone(ZoneInfo(lot.timezone))
                tomorrow = local.date() + timedelta(days=1)
                if not by_hand and (local.time() < at or _planned_already(app, lot.id, tomorrow)):
                    continue
            except Exception as exc:  # a lot's bad zone fails that lot only
                report.runs.append(
                    record_failed_run(
                        app,
                        job=EVENING_PLAN,
                        lot_id=lot.id,
                        day=None,
                        started=utcnow(),
                        error=f"{type(exc).__name__}: {exc}",
                    )
                )
                continue
            run = _plan_lot(app, lot.id, tomorrow, by_hand=by_hand)
            if run is not None:
                report.runs.append(run)
    return report
