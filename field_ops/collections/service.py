"""Collection figures of a lot, or of every lot in the caller's scope, over a range of dates.

The figures themselves are defined in `figures.py`; this module picks the lots, checks the
range and assembles the contract's shape, zeros included."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from field_ops.collections import figures
from field_ops.core.errors import field_error
from field_ops.dealerships.models import Dealership
from field_ops.dealerships.service import get_dealership
from field_ops.users.models import User
from field_ops.users.scope import scoped

MAX_DAYS = 366


def _check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise field_error("to", "Must be on or after `from`.")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise field_error("to", f"A range covers at most {MAX_DAYS} days.")


def _summaries(session: Session, lot_ids: list[int], date_from: date, date_to: date) -> list[dict[str, Any]]:
    period = figures.Period(lot_ids, date_from, date_to)
    visits = figures.visits_by_status(session, period)
    check_ins = figures.check_ins_by_site(session, period)
    outcomes = figures.outcomes_by_code(session, period)
    collected = figures.collected_amount(session, period)
    promises_by_status = figures.promises_by_status(session, period)
    aging = figures.aging(session, period)
    follow_ups = figures.open_follow_ups(session, period)
    reps = figures.rep_figures(session, period)
    rep_ids = {rep for per_lot in reps.values() for rep in per_lot}
    rep_names = dict(session.execute(select(User.id, User.name).where(User.id.in_(rep_ids))).all()) if rep_ids else {}

    summaries = []
    for lot in lot_ids:
        promises = dict(promises_by_status.get(lot, {"made": 0, "kept": 0, "broken": 0, "pending": 0}))
        promises["kept_rate"] = figures.kept_rate(promises["kept"], promises["broken"])
        lot_aging = aging.get(lot, {})
        summaries.append(
            {
                "dealership_id": lot,
                "date_from": date_from,
                "date_to": date_to,
                "visits": visits.get(lot, {"booked": 0, "completed": 0, "missed": 0, "cancelled": 0}),
                "check_ins": check_ins.get(lot, {"on_site": 0, "off_site": 0}),
                "outcomes": outcomes.get(lot, {code: 0 for code in figures.OutcomeCode}),
                "collected_amount": collected.get(lot, figures.ZERO),
                "promises": promises,
                "aging": [
                    {"bucket": name, **lot_aging.get(name, {"accounts": 0, "amount_due": figures.ZERO})}
                    for name in figures.AGING_BUCKETS
                ],
                "open_follow_ups": follow_ups.get(lot, 0),
                "by_rep": [
                    {"rep_id": rep, "rep_name": rep_names.get(rep), **values}
                    for rep, values in sorted(reps.get(lot, {}).items(), key=lambda item: rep_names.get(item[0]) or "")
                ],
            }
        )
    return summaries


def get_lot_summary(session: Session, actor: User, dealership_id: int, date_from: date, date_to: date) -> dict:
    """One lot's figures. Raises NotFound for a lot out of scope, a 422 for a bad range."""
    get_dealership(session, actor, dealership_id)
    _check_range(date_from, date_to)
    return _summaries(session, [dealership_id], date_from, date_to)[0]


def list_lot_summaries(session: Session, actor: User, date_from: date, date_to: date) -> list[dict]:
    """The figures of every lot in the actor's scope, worst kept rate first (lots with no settled
    promise last), then by collected amount, lowest first. Raises a 422 for a bad range."""
    _check_range(date_from, date_to)
    lot_ids = list(session.scalars(scoped(select(Dealership.id), actor, Dealership.id).order_by(Dealership.id)))
    summaries = _summaries(session, lot_ids, date_from, date_to)
    return sorted(
        summaries,
        key=lambda s: (
            s["promises"]["kept_rate"] is None,
            s["promises"]["kept_rate"] or 0,
            s["collected_amount"],
            s["dealership_id"],
        ),
    )
