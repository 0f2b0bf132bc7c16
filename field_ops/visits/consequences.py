"""What an outcome sets in motion beyond the visit: a payment, a promise, a follow-up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from field_ops.dealerships.service import lot_date
from field_ops.follow_ups.models import FollowUpKind
from field_ops.follow_ups.service import raise_follow_ups, visit_cause
from field_ops.payments.service import make_promise, record_payment
from field_ops.users.models import User
from field_ops.visits.models import Outcome, OutcomeCode, Visit

FOLLOW_UP_RAISED_BY = {
    OutcomeCode.CUSTOMER_MOVED: FollowUpKind.SKIP_TRACE,
    OutcomeCode.WRONG_ADDRESS: FollowUpKind.SKIP_TRACE,
    OutcomeCode.APPOINTMENT_SET: FollowUpKind.DEALERSHIP_APPOINTMENT,
}


def apply_outcome_consequences(session: Session, *, actor: User, visit: Visit, outcome: Outcome) -> None:
    """In the outcome's transaction: a collected payment is recorded, a promise made, and a
    skip trace or dealership appointment raised (due the same lot-local day)."""
    kind = FOLLOW_UP_RAISED_BY.get(outcome.outcome)
    if kind is None and outcome.outcome not in (OutcomeCode.PAYMENT_COLLECTED, OutcomeCode.PROMISE_TO_PAY):
        return  # nothing follows (not home, refused...): no need to read the lot's day
    day = lot_date(session, visit.dealership_id, outcome.recorded_at)
    if outcome.outcome == OutcomeCode.PAYMENT_COLLECTED:
        record_payment(
            session,
            actor=actor,
            account_id=visit.account_id,
            amount=outcome.amount_collected,
            paid_on=day,
            method=outcome.payment_method or "cash",
            note=outcome.notes,
            visit_id=visit.id,
        )
    elif outcome.outcome == OutcomeCode.PROMISE_TO_PAY:
        make_promise(
            session,
            actor=actor,
            account=visit.account,
            visit_id=visit.id,
            outcome_id=outcome.id,
            made_on=day,
            promise_date=outcome.promise_date,
            promise_amount=outcome.promise_amount,
        )
    if kind is not None:
        cause = visit_cause(kind, visit.id, visit.dealership_id, visit.account_id, day)
        raise_follow_ups(session, actor=actor, causes=[cause])
