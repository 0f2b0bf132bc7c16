"""Every collection figure, defined once: one small SQL query per figure, its definition in its
docstring.

Each function takes the session and a `Period` (the lots and an inclusive range of dates) and
answers per lot, `{dealership_id: value}`, computed by the database with GROUP BY, so one call
covers one lot or every lot in the caller's scope alike. Dates are the lot's local dates: a
visit counts on its `scheduled_date`, which booking sets to the lot-local date of its window.
Payments count on their `paid_on`, promises on their `made_on` (both lot-local dates, set from
the outcome's moment in the lot's zone), follow-ups on their `due_date`.
A lot with nothing to count is simply absent from the answer; `service.py` fills in zeros.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from field_ops.accounts.models import Account
from field_ops.core.db import Money
from field_ops.follow_ups.models import FollowUp, FollowUpStatus
from field_ops.payments.models import Payment, Promise, PromiseStatus
from field_ops.visits.models import Outcome, OutcomeCode, Visit, VisitStatus

AGING_BUCKETS = ("1-30", "31-60", "61-90", "91+")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Period:
    dealership_ids: list[int]
    date_from: date
    date_to: date


def _visits_in(period: Period) -> ColumnElement[bool]:
    return and_(
        Visit.dealership_id.in_(period.dealership_ids),
        Visit.scheduled_date >= period.date_from,
        Visit.scheduled_date <= period.date_to,
    )


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _money_sum(column: Any) -> ColumnElement[Decimal]:
    return func.sum(column, type_=Money())


def _money(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value).quantize(Decimal("0.01"))


def visits_by_status(session: Session, period: Period) -> dict[int, dict[str, int]]:
    """visits.booked: the lot's visits scheduled on a date of the period, in any status (a visit
    booked and later cancelled still counts as booked). visits.completed / missed / cancelled:
    those of them now in that status."""
    stmt = (
        select(Visit.dealership_id, Visit.status, func.count())
        .where(_visits_in(period))
        .group_by(Visit.dealership_id, Visit.status)
    )
    return _tally_by_lot(
        session, stmt, "booked", (VisitStatus.COMPLETED.value, VisitStatus.MISSED.value, VisitStatus.CANCELLED.value)
    )


def check_ins_by_site(session: Session, period: Period) -> dict[int, dict[str, int]]:
    """check_ins.on_site: visits of the period checked in within the check-in radius of the
    customer's address (the proof the rep was at the door); check_ins.off_site: checked in
    farther away, or where the address has no coordinates."""
    stmt = (
        select(
            Visit.dealership_id,
            _count_if(Visit.on_site.is_(True)),
            _count_if(Visit.on_site.is_not(True)),
        )
        .where(_visits_in(period), Visit.checked_in_at.is_not(None))
        .group_by(Visit.dealership_id)
    )
    return {lot: {"on_site": int(on), "off_site": int(off)} for lot, on, off in session.execute(stmt)}


def outcomes_by_code(session: Session, period: Period) -> dict[int, dict[str, int]]:
    """outcomes.<code>: outcomes recorded at the period's visits, counted by outcome code (every
    code present, zeros included)."""
    stmt = (
        select(Visit.dealership_id, Outcome.outcome, func.count())
        .join(Outcome, Outcome.visit_id == Visit.id)
        .where(_visits_in(period))
        .group_by(Visit.dealership_id, Outcome.outcome)
    )
    figures: dict[int, dict[str, int]] = defaultdict(lambda: {code.value: 0 for code in OutcomeCode})
    for lot, code, n in session.execute(stmt):
        figures[lot][code] = n
    return dict(figures)


def collected_amount(session: Session, period: Period) -> dict[int, Decimal]:
    """collected_amount: the money the lot received in the period, the sum of its `payments` paid
    on a date of the period (`paid_on`, a lot-local date): taken at the door by a
    `payment_collected` outcome, recorded by the office, or paid online alike."""
    stmt = (
        select(Payment.dealership_id, _money_sum(Payment.amount))
        .where(
            Payment.dealership_id.in_(period.dealership_ids),
            Payment.paid_on >= period.date_from,
            Payment.paid_on <= period.date_to,
        )
        .group_by(Payment.dealership_id)
    )
    return {lot: _money(total) for lot, total in session.execute(stmt)}


def _promises_in(period: Period) -> ColumnElement[bool]:
    return and_(
        Promise.dealership_id.in_(period.dealership_ids),
        Promise.made_on >= period.date_from,
        Promise.made_on <= period.date_to,
    )


def promises_by_status(session: Session, period: Period) -> dict[int, dict[str, int]]:
    """promises.made: the lot's promises to pay made on a date of the period (`made_on`, the
    lot-local date of the `promise_to_pay` outcome), whatever their promise date.
    promises.kept / broken / pending: those same promises by their status now: kept (paid in
    full by their date), broken (still short once the end-of-day job closed their date) or
    pending (neither yet). So made = kept + broken + pending, and a promise made in the period
    but settled after it still counts, with its current status."""
    stmt = (
        select(Promise.dealership_id, Promise.status, func.count())
        .where(_promises_in(period))
        .group_by(Promise.dealership_id, Promise.status)
    )
    return _tally_by_lot(
        session, stmt, "made", (PromiseStatus.KEPT.value, PromiseStatus.BROKEN.value, PromiseStatus.PENDING.value)
    )


def _tally_by_lot(session: Session, stmt: Select, total: str, statuses: tuple[str, ...]) -> dict[int, dict[str, int]]:
    """Per lot, from (lot, status, count) rows: `total` counts every row, each of `statuses` its own."""
    figures: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys((total, *statuses), 0))
    for lot, status, n in session.execute(stmt):
        figures[lot][total] += n
        if status in statuses:
            figures[lot][status] += n
    return dict(figures)


def kept_rate(kept: int, broken: int) -> float | None:
    """promises.kept_rate: kept / (kept + broken), the settled promises only; None when none is settled."""
    settled = kept + broken
    return None if settled == 0 else round(kept / settled, 4)


def aging(session: Session, period: Period) -> dict[int, dict[str, dict[str, Any]]]:
    """aging[bucket]: the lot's accounts past due today (days_past_due >= 1) in each bucket of
    days past due (1-30, 31-60, 61-90, 91+), and the sum of their amount_due. A snapshot of the
    accounts as they stand now, not of the period: accounts keep no history of their aging."""
    bucket = case(
        (Account.days_past_due <= 30, "1-30"),
        (Account.days_past_due <= 60, "31-60"),
        (Account.days_past_due <= 90, "61-90"),
        else_="91+",
    )
    # Bucketed in a subquery, then grouped by its column: PostgreSQL would not match a CASE with
    # bound parameters in SELECT against the same CASE in GROUP BY.
    past_due = (
        select(Account.dealership_id.label("lot"), bucket.label("bucket"), Account.amount_due.label("amount_due"))
        .where(Account.dealership_id.in_(period.dealership_ids), Account.days_past_due >= 1)
        .subquery()
    )
    stmt = select(past_due.c.lot, past_due.c.bucket, func.count(), _money_sum(past_due.c.amount_due)).group_by(
        past_due.c.lot, past_due.c.bucket
    )
    figures: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for lot, name, n, total in session.execute(stmt):
        figures[lot][name] = {"accounts": n, "amount_due": _money(total)}
    return dict(figures)


def open_follow_ups(session: Session, period: Period) -> dict[int, int]:
    """open_follow_ups: the lot's follow-ups still open now (status `open`) and due on or before
    the period's last day (`due_date`, a lot-local date), overdue ones from before the period
    included: the queue work that has come due by the end of the period and is not done yet.
    Items due after the period are not counted (not yet due for that period)."""
    stmt = (
        select(FollowUp.dealership_id, func.count())
        .where(
            FollowUp.dealership_id.in_(period.dealership_ids),
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.due_date <= period.date_to,
        )
        .group_by(FollowUp.dealership_id)
    )
    return {lot: n for lot, n in session.execute(stmt)}


def rep_figures(session: Session, period: Period) -> dict[int, dict[int, dict[str, Any]]]:
    """by_rep, per rep assigned to at least one visit of the period, or to the visit of a payment
    or promise of the period:
    visits_completed: their visits of the period now completed;
    on_site_rate: their on-site check-ins / their check-ins (None without check-ins);
    collected_amount: what they collected at the door, the payments of the period (by `paid_on`,
    as the lot's figure) recorded at a visit assigned to them; office and online payments
    belong to no rep;
    promises_made / promises_kept: the promises of the period (by `made_on`, as the lot's
    figure) made at a visit assigned to them, and of those the ones now kept."""
    visits = (
        select(
            Visit.dealership_id,
            Visit.assigned_rep_id,
            _count_if(Visit.status == VisitStatus.COMPLETED),
            _count_if(Visit.checked_in_at.is_not(None)),
            _count_if(and_(Visit.checked_in_at.is_not(None), Visit.on_site.is_(True))),
        )
        .where(_visits_in(period), Visit.assigned_rep_id.is_not(None))
        .group_by(Visit.dealership_id, Visit.assigned_rep_id)
    )
    collected = (
        select(Payment.dealership_id, Visit.assigned_rep_id, _money_sum(Payment.amount))
        .join(Visit, Visit.id == Payment.visit_id)
        .where(
            Payment.dealership_id.in_(period.dealership_ids),
            Payment.paid_on >= period.date_from,
            Payment.paid_on <= period.date_to,
            Visit.assigned_rep_id.is_not(None),
        )
        .group_by(Payment.dealership_id, Visit.assigned_rep_id)
    )
    promised = (
        select(
            Promise.dealership_id,
            Visit.assigned_rep_id,
            func.count(),
            _count_if(Promise.status == PromiseStatus.KEPT),
        )
        .join(Visit, Visit.id == Promise.visit_id)
        .where(_promises_in(period), Visit.assigned_rep_id.is_not(None))
        .group_by(Promise.dealership_id, Visit.assigned_rep_id)
    )
    figures: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)

    def rep(lot: int, rep_id: int) -> dict[str, Any]:
        return figures[lot].setdefault(
            rep_id,
            {
                "visits_completed": 0,
                "on_site_rate": None,
                "collected_amount": ZERO,
                "promises_made": 0,
                "promises_kept": 0,
            },
        )

    for lot, rep_id, completed, checked_in, on_site in session.execute(visits):
        rep(lot, rep_id).update(
            visits_completed=int(completed),
            on_site_rate=round(int(on_site) / int(checked_in), 4) if checked_in else None,
        )
    for lot, rep_id, total in session.execute(collected):
        rep(lot, rep_id)["collected_amount"] = _money(total)
    for lot, rep_id, made, kept in session.execute(promised):
        rep(lot, rep_id).update(promises_made=int(made), promises_kept=int(kept))
    return dict(figures)
