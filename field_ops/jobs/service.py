"""The end-of-day job: close each lot's day once its own midnight has passed.

For each lot and each day not yet closed (oldest first): the day's unvisited visits become
`missed` and raise `rebook_missed_visit`; promises dated that day or earlier and still short
become `broken` and raise `broken_promise`. One transaction per lot and day, recorded in
`job_runs` in that same transaction, so a closed day is never closed twice and a failed one is
retried on the next tick.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from field_ops.core.audit import record_audits
from field_ops.core.db import utcnow
from field_ops.dealerships.models import Dealership
from field_ops.follow_ups.models import FollowUpKind
from field_ops.follow_ups.service import raise_follow_ups, visit_cause
from field_ops.jobs.errors import DayNotOver
from field_ops.jobs.locks import job_lock
from field_ops.jobs.models import JobRun, JobRunStatus
from field_ops.payments.models import Promise, PromiseStatus
from field_ops.payments.service import break_overdue_promises
from field_ops.visits.models import Visit, VisitStatus

END_OF_DAY = "end_of_day"
OPEN_STATUSES = (VisitStatus.SCHEDULED.value, VisitStatus.CHECKED_IN.value)
log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What one trigger of the job did: `skipped` when another worker held the lock."""

    skipped: bool = False
    runs: list[JobRun] = field(default_factory=list)

    @property
    def failed(self) -> list[JobRun]:
        return [run for run in self.runs if run.status == JobRunStatus.FAILED]


def days_to_close(session: Session, lot: Dealership, now: datetime, catch_up_days: int) -> list[date]:
    """The lot's days that have ended and are not closed yet, oldest first.

    After the last closed day; for a lot never closed, from its oldest open visit or pending
    promise, at most `catch_up_days` back."""
    yesterday = lot.local_date(now) - timedelta(days=1)
    last_closed = session.scalar(
        select(func.max(JobRun.day)).where(
            JobRun.job == END_OF_DAY, JobRun.dealership_id == lot.id, JobRun.status == JobRunStatus.OK
        )
    )
    if last_closed is not None:
        first = last_closed + timedelta(days=1)
    else:
        oldest = [
            session.scalar(
                select(func.min(Visit.scheduled_date)).where(
                    Visit.dealership_id == lot.id, Visit.status.in_(OPEN_STATUSES)
                )
            ),
            session.scalar(
                select(func.min(Promise.promise_date)).where(
                    Promise.dealership_id == lot.id, Promise.status == PromiseStatus.PENDING
                )
            ),
        ]
        first = min([d for d in oldest if d is not None] + [yesterday])
        first = max(first, yesterday - timedelta(days=catch_up_days - 1))
    return [first + timedelta(days=n) for n in range((yesterday - first).days + 1)]


def close_dealership_day(session: Session, *, dealership_id: int, day: date) -> dict[str, int]:
    """Close one lot's day: its visits still open become missed (each raising a rebook follow-up
    due the next day) and its overdue promises still short become broken. Returns the counts."""
    now = utcnow()
    open_visits = session.execute(
        select(Visit.id, Visit.account_id, Visit.status)
        .where(Visit.dealership_id == dealership_id, Visit.status.in_(OPEN_STATUSES), Visit.scheduled_date <= day)
        .order_by(Visit.id)
        .with_for_update()
    ).all()
    ids = [row.id for row in open_visits]
    for start in range(0, len(ids), 500):
        session.execute(
            update(Visit)
            .where(Visit.id.in_(ids[start : start + 500]), Visit.status.in_(OPEN_STATUSES))
            .values(status=VisitStatus.MISSED.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    record_audits(
        session,
        actor=None,
        entries=[
            {
                "action": "visit.missed",
                "entity_type": "visit",
                "entity_id": row.id,
                "dealership_id": dealership_id,
                "changes": {"status": [row.status, VisitStatus.MISSED.value]},
            }
            for row in open_visits
        ],
    )
    due = day + timedelta(days=1)
    causes = [
        visit_cause(FollowUpKind.REBOOK_MISSED_VISIT, row.id, dealership_id, row.account_id, due) for row in open_visits
    ]
    rebooks = raise_follow_ups(session, actor=None, causes=causes)
    broken, chases = break_overdue_promises(session, dealership_id=dealership_id, day=day)
    return {
        "visits_missed": len(open_visits),
        "promises_broken": broken,
        "follow_ups_raised": len(rebooks) + chases,
    }


def _run_day(app: Flask, lot_id: int, day: date) -> JobRun:
    maker = app.extensions["db_sessionmaker"]
    started = utcnow()
    try:
        with maker.begin() as session:
            counts = close_dealership_day(session, dealership_id=lot_id, day=day)
            run = JobRun(
                job=END_OF_DAY,
                dealership_id=lot_id,
                day=day,
                started_at=started,
                finished_at=utcnow(),
                status=JobRunStatus.OK,
                counts=counts,
            )
            session.add(run)
        return run
    except Exception as exc:
        return _record_failure(app, lot_id, day, started, exc)


def record_failed_run(app: Flask, *, job: str, lot_id: int, day: date | None, started: datetime, error: str) -> JobRun:
    """A `failed` job_runs row in its own transaction, so a lot that failed is retried next tick."""
    with app.extensions["db_sessionmaker"].begin() as session:
        run = JobRun(
            job=job,
            dealership_id=lot_id,
            day=day,
            started_at=started,
            finished_at=utcnow(),
            status=JobRunStatus.FAILED,
            counts={},
            error=error[:2000],
        )
        session.add(run)
    return run


def _record_failure(app: Flask, lot_id: int, day: date | None, started: datetime, exc: Exception) -> JobRun:
    log.error("end-of-day failed for dealership %s, day %s", lot_id, day, exc_info=exc)
    return record_failed_run(
        app, job=END_OF_DAY, lot_id=lot_id, day=day, started=started, error=f"{type(exc).__name__}: {exc}"
    )


def lots_to_run(app: Flask, dealership_id: int | None) -> list[Dealership]:
    """Every dealership (or the one asked for), detached from its session."""
    with app.extensions["db_sessionmaker"]() as session:
        stmt = select(Dealership).order_by(Dealership.id)
        if dealership_id is not None:
            stmt = stmt.where(Dealership.id == dealership_id)
        lots = list(session.scalars(stmt))
        session.expunge_all()
        return lots


def check_day(app: Flask, *, day: date, dealership_id: int | None = None, now: datetime | None = None) -> None:
    """Raises DayNotOver for a day after today in a lot's zone (it has not even begun there)."""
    now = now or utcnow()
    for lot in lots_to_run(app, dealership_id):
        if day > lot.local_date(now):
            raise DayNotOver(f"{day.isoformat()} is after today at {lot.code} ({lot.timezone}).")


def run_end_of_day(
    app: Flask, *, now: datetime | None = None, day: date | None = None, dealership_id: int | None = None
) -> RunReport:
    """Close every lot's ended days (or just `day`, by hand), under the job lock.

    A lot that fails is recorded as failed and skipped until the next run; the others go on.
    Another worker holding the lock makes this run a no-op (`skipped`). Raises DayNotOver."""
    now = now or utcnow()
    if day is not None:
        check_day(app, day=day, dealership_id=dealership_id, now=now)
    report = RunReport()
    with job_lock(app.extensions["db_engine"], END_OF_DAY) as acquired:
        if not acquired:
            report.skipped = True
            return report
        catch_up = app.config["END_OF_DAY_CATCH_UP_DAYS"]
        for lot in lots_to_run(app, dealership_id):
            try:
                if day is not None:
                    days = [day]
                else:
                    with app.extensions["db_sessionmaker"]() as session:
                        days = days_to_close(session, lot, now, catch_up)
            except Exception as exc:
                report.runs.append(_record_failure(app, lot.id, None, utcnow(), exc))
                continue
            for each in days:
                run = _run_day(app, lot.id, each)
                report.runs.append(run)
                if run.status == JobRunStatus.FAILED:
                    break  # the later days wait: days are closed oldest first
    return report


def describe(report: RunReport) -> list[str]:
    if report.skipped:
        return ["Skipped: another worker is running end-of-day."]
    lines = [
        f"{run.day} dealership {run.dealership_id}: {run.status} "
        + (", ".join(f"{k}={v}" for k, v in run.counts.items()) if run.counts else (run.error or ""))
        for run in report.runs
    ]
    return lines or ["Nothing to close: every lot's ended days are closed."]


def counts_total(report: RunReport) -> dict[str, Any]:
    totals: dict[str, int] = {}
    for run in report.runs:
        for key, value in run.counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals
