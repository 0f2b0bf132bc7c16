"""The evening plan: tomorrow's routes for every lot that has visits and no plan yet.

The scheduler (`field_ops.jobs.evening`) runs it for each lot once the lot-local time passes
`AUTO_PLAN_AT`, recording each lot-day in `job_runs`; `plan_unplanned_lots` plans every such lot
at once (inside an app context). Each lot is its own transaction, so one lot's failure (say a
visit booked during its solve) leaves the others planned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from field_ops.core.errors import ProblemError
from field_ops.routing.models import RoutePlan
from field_ops.routing.service import plan_routes, unplanned_lot_days
from field_ops.visits.models import Visit, VisitKind, VisitStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LotDayResult:
    dealership_id: int
    date: date
    planned: int = 0
    unassigned: int = 0
    routes: int = 0
    error: str | None = None
    detail: str | None = None


def lot_day_state(session: Session, *, dealership_id: int, day: date) -> tuple[bool, bool]:
    """(has a plan, has visits to route) for one lot-day, as `unplanned_lot_days` judges them."""
    has_plan = select(RoutePlan.id).where(RoutePlan.dealership_id == dealership_id, RoutePlan.date == day)
    has_visits = select(Visit.id).where(
        Visit.dealership_id == dealership_id,
        Visit.scheduled_date == day,
        Visit.status == VisitStatus.SCHEDULED,
        Visit.kind == VisitKind.PERSONAL_VISIT,
    )
    return session.scalar(has_plan.limit(1)) is not None, session.scalar(has_visits.limit(1)) is not None


def plan_lot_day(session: Session, *, dealership_id: int, day: date) -> LotDayResult:
    """Plan one lot-day as the system (no actor); the caller commits the session.

    A refusal (the day changed during the solve, a plan of it in progress...) is a result with
    its error code, the session rolled back; anything else raises."""
    try:
        outcome = plan_routes(session, actor=None, dealership_id=dealership_id, date=day)
    except ProblemError as error:
        session.rollback()
        log.warning("evening plan of dealership %s for %s: %s", dealership_id, day, error)
        return LotDayResult(dealership_id, day, error=error.code, detail=getattr(error, "detail", None) or str(error))
    return LotDayResult(
        dealership_id,
        day,
        planned=sum(len(route.stops) for route in outcome.routes),
        unassigned=len(outcome.plan.unassigned),
        routes=len(outcome.routes),
    )


def plan_unplanned_lots(sessions: sessionmaker[Session], *, now: datetime | None = None) -> list[LotDayResult]:
    """Plan tomorrow for every lot with visits and no plan; one result per lot-day tried."""
    with sessions() as session:
        lot_days = unplanned_lot_days(session, now)
    results = []
    for dealership_id, day in lot_days:
        # The planner ends its read snapshot before solving, so each lot gets a fresh session
        # that is committed here, the job's edge, once its plan is written.
        with sessions() as session:
            result = plan_lot_day(session, dealership_id=dealership_id, day=day)
            if result.error is None:
                session.commit()
        results.append(result)
    return results
