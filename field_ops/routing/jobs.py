"""The evening plan: tomorrow's routes for every lot that has visits and no plan yet.

`plan_unplanned_lots` is ready for the scheduler to run daily at `AUTO_PLAN_AT` (the lot-local
time, off when empty); until it is wired there, call it inside an app context. Each lot is its own
transaction, so one lot's failure (say a visit booked during its solve) leaves the others planned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from field_ops.core.errors import ProblemError
from field_ops.routing.service import plan_routes, unplanned_lot_days

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LotDayResult:
    dealership_id: int
    date: date
    planned: int = 0
    unassigned: int = 0
    error: str | None = None


def plan_unplanned_lots(sessions: sessionmaker[Session], *, now: datetime | None = None) -> list[LotDayResult]:
    """Plan tomorrow for every lot with visits and no plan; one result per lot-day tried."""
    with sessions() as session:
        lot_days = unplanned_lot_days(session, now)
    results = []
    for dealership_id, day in lot_days:
        # The planner ends its read snapshot before solving, so each lot gets a fresh session
        # that is committed here, the job's edge, once its plan is written.
        with sessions() as session:
            try:
                outcome = plan_routes(session, actor=None, dealership_id=dealership_id, date=day)
                placed = sum(len(route.stops) for route in outcome.routes)
                session.commit()
            except ProblemError as error:
                session.rollback()
                log.warning("evening plan of dealership %s for %s: %s", dealership_id, day, error)
                results.append(LotDayResult(dealership_id, day, error=error.code))
                continue
        results.append(LotDayResult(dealership_id, day, planned=placed, unassigned=len(outcome.plan.unassigned)))
    return results
