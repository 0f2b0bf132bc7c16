"""Demo field work of the last few days, so the end-of-day job has a day to close on a fresh demo:
yesterday's unvisited visits (they become missed), outcomes with a collected payment, a customer
who moved and promises due yesterday, one paid in full (kept) and one paid in part (broken overnight)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from field_ops.accounts.models import Account
from field_ops.dealerships.models import Dealership
from field_ops.payments.service import record_payment
from field_ops.users.models import Role, User
from field_ops.visits.consequences import apply_outcome_consequences
from field_ops.visits.models import Outcome, Visit, VisitStatus

# (days ago, outcome or None, fields of the outcome); None with "checked_in" = left without an outcome.
RECENT_WORK = [
    (1, None, {}),
    (1, None, {}),
    (1, "checked_in", {}),
    (1, "payment_collected", {"amount_collected": Decimal("120.00"), "payment_method": "cash"}),
    (1, "customer_moved", {}),
    (1, "promise_to_pay", {"promise_amount": Decimal("90.00"), "promise_in_days": 6}),
    (3, "promise_to_pay", {"promise_amount": Decimal("150.00"), "promise_in_days": 2}),
    (3, "promise_to_pay", {"promise_amount": Decimal("200.00"), "promise_in_days": 2}),
]
# What the customers of the two promises due yesterday paid: the first in full, the second in part.
PAID_TOWARDS_PROMISES = [Decimal("150.00"), Decimal("80.00")]


def _at(day: date, clock: str, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=zone)


def ensure_recent_work(session: Session, summary, dealership: Dealership) -> None:
    """Idempotent per day: nothing is added when the lot already has visits yesterday."""
    zone = ZoneInfo(dealership.timezone)
    today = datetime.now(zone).date()
    days = {today - timedelta(days=n) for n, _, _ in RECENT_WORK}
    if session.scalar(select(Visit.id).where(Visit.dealership_id == dealership.id, Visit.scheduled_date.in_(days))):
        return
    reps = [u for u in session.scalars(select(User).where(User.role == Role.REP).order_by(User.id))]
    reps = [u for u in reps if dealership.id in u.dealership_ids]
    accounts = [
        a
        for a in session.scalars(
            select(Account).where(Account.dealership_id == dealership.id).order_by(Account.days_past_due, Account.id)
        )
        if not a.active_restrictions
    ]
    if not reps or len(accounts) < len(RECENT_WORK):
        return
    promised: list[tuple[Account, date]] = []
    for i, (days_ago, code, fields) in enumerate(RECENT_WORK):
        day, account, rep = today - timedelta(days=days_ago), accounts[i], reps[i % len(reps)]
        visit = Visit(
            account=account,
            dealership_id=dealership.id,
            kind="personal_visit",
            scheduled_date=day,
            window_start=_at(day, "10:00", zone),
            window_end=_at(day, "14:00", zone),
            status=VisitStatus.SCHEDULED,
            assigned_rep_id=rep.id,
            reason=f"{account.days_past_due} days past due",
        )
        session.add(visit)
        if code is not None:
            visit.status = VisitStatus.CHECKED_IN
            visit.checked_in_at = _at(day, "11:00", zone)
            visit.check_in_latitude, visit.check_in_longitude = account.latitude, account.longitude
            visit.distance_m, visit.on_site, visit.in_window = 0.0, True, True
        session.flush()
        if code in (None, "checked_in"):
            continue
        promise_date = day + timedelta(days=fields["promise_in_days"]) if "promise_in_days" in fields else None
        outcome = Outcome(
            visit_id=visit.id,
            outcome=code,
            amount_collected=fields.get("amount_collected"),
            payment_method=fields.get("payment_method"),
            promise_date=promise_date,
            promise_amount=fields.get("promise_amount"),
            recorded_at=_at(day, "11:10", zone),
            recorded_by=rep.id,
        )
        session.add(outcome)
        visit.status = VisitStatus.COMPLETED
        session.flush()
        apply_outcome_consequences(session, actor=rep, visit=visit, outcome=outcome)
        if promise_date is not None and promise_date < today:
            promised.append((account, promise_date))
    for (account, promise_date), amount in zip(promised, PAID_TOWARDS_PROMISES, strict=False):
        record_payment(session, actor=None, account_id=account.id, amount=amount, paid_on=promise_date, method="online")
    summary.count("recent visits", len(RECENT_WORK))
