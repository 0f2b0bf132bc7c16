"""Payments and promises to pay: a payment is recorded by the office or by a `payment_collected`
outcome; a `promise_to_pay` outcome makes a promise, kept as soon as the payments cover it and
broken by the end-of-day job once its date has passed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from field_ops.accounts.models import Account
from field_ops.core.audit import field_changes, record_audit, record_audits, record_created
from field_ops.core.db import utcnow
from field_ops.core.errors import NotYetHappened, field_error
from field_ops.dealerships.service import lot_date
from field_ops.follow_ups.service import promise_cause, raise_follow_ups
from field_ops.payments.models import Payment, Promise, PromiseStatus
from field_ops.users.models import User
from field_ops.users.scope import get_scoped, scoped


def _get_account(session: Session, actor: User | None, account_id: int) -> Account:
    return get_scoped(session, Account, account_id, actor, "Account")


# --- payments ------------------------------------------------------------------------------


def record_payment(
    session: Session,
    *,
    actor: User | None,
    account_id: int,
    amount: Decimal,
    paid_on: date,
    method: str,
    reference: str | None = None,
    note: str | None = None,
    visit_id: int | None = None,
) -> Payment:
    """Record a payment and settle the account's pending promises it counts towards.
    Raises NotFound, and 422s for an amount not above 0 or `paid_on` after today (lot time)."""
    account = _get_account(session, actor, account_id)
    if not amount > 0:
        raise field_error("amount", "A payment needs an amount above 0.")
    today = lot_date(session, account.dealership_id)
    if paid_on > today:
        raise NotYetHappened.at("paid_on", f"Is after today ({today.isoformat()}, lot time).")
    payment = Payment(
        account_id=account.id,
        dealership_id=account.dealership_id,
        amount=amount,
        paid_on=paid_on,
        method=method,
        reference=reference,
        note=note,
        visit_id=visit_id,
        recorded_by=actor.id if actor else None,
    )
    session.add(payment)
    record_created(
        session,
        payment,
        actor=actor,
        action="payment.recorded",
        entity_type="payment",
        values={
            "account_id": account.id,
            "amount": amount,
            "paid_on": paid_on,
            "method": method,
            "reference": reference,
            "visit_id": visit_id,
        },
    )
    pending = select(Promise).where(
        Promise.account_id == account.id,
        Promise.status == PromiseStatus.PENDING,
        Promise.made_on <= paid_on,
        Promise.promise_date >= paid_on,
    )
    for promise in session.scalars(pending.order_by(Promise.id).with_for_update()):
        _settle(session, actor, promise)
    return payment


def get_payment(session: Session, actor: User, payment_id: int) -> Payment:
    """Raises NotFound, also for another lot's payment."""
    return get_scoped(session, Payment, payment_id, actor, "Payment")


def list_payments_query(session: Session, actor: User, account_id: int) -> Select:
    _get_account(session, actor, account_id)
    return select(Payment).where(Payment.account_id == account_id).order_by(Payment.paid_on.desc(), Payment.id.desc())


# --- promises ------------------------------------------------------------------------------


def _paid_towards(session: Session, promise: Promise) -> Decimal:
    total = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.account_id == promise.account_id,
            Payment.paid_on >= promise.made_on,
            Payment.paid_on <= promise.promise_date,
        )
    )
    return Decimal(total).quantize(Decimal("0.01"))


def _settle(session: Session, actor: User | None, promise: Promise) -> None:
    """Bring `paid_amount` up to date; the promise is kept once it reaches the promised amount."""
    paid = _paid_towards(session, promise)
    changes: dict[str, Any] = {}
    if paid != promise.paid_amount:
        changes["paid_amount"] = [promise.paid_amount, paid]
        promise.paid_amount = paid
    if promise.status == PromiseStatus.PENDING and paid >= promise.promise_amount:
        promise.status, promise.kept_at = PromiseStatus.KEPT, utcnow()
        changes["status"] = [PromiseStatus.PENDING.value, PromiseStatus.KEPT.value]
    if changes:
        record_audit(
            session,
            actor=actor,
            action="promise.kept" if "status" in changes else "promise.paid_towards",
            entity_type="promise",
            entity_id=promise.id,
            dealership_id=promise.dealership_id,
            changes=changes,
        )


def make_promise(
    session: Session,
    *,
    actor: User | None,
    account: Account,
    visit_id: int | None,
    outcome_id: int | None,
    made_on: date,
    promise_date: date,
    promise_amount: Decimal,
) -> Promise:
    """A promise to pay, already counting the payments made on its first day."""
    promise = Promise(
        account_id=account.id,
        dealership_id=account.dealership_id,
        visit_id=visit_id,
        outcome_id=outcome_id,
        made_on=made_on,
        promise_date=promise_date,
        promise_amount=promise_amount,
        paid_amount=Decimal("0.00"),
        status=PromiseStatus.PENDING,
    )
    session.add(promise)
    record_created(
        session,
        promise,
        actor=actor,
        action="promise.made",
        entity_type="promise",
        values={
            "account_id": account.id,
            "visit_id": visit_id,
            "outcome_id": outcome_id,
            "made_on": made_on,
            "promise_date": promise_date,
            "promise_amount": promise_amount,
        },
    )
    _settle(session, actor, promise)
    return promise


def break_overdue_promises(session: Session, *, dealership_id: int, day: date) -> tuple[int, int]:
    """Promises of the lot dated `day` or earlier and still short become broken, each raising one
    `broken_promise` follow-up due the next day. Returns (promises broken, follow-ups raised).

    Set-based (one sum query, one bulk update) because it runs for every lot every night."""
    overdue = (
        Promise.dealership_id == dealership_id,
        Promise.status == PromiseStatus.PENDING,
        Promise.promise_date <= day,
    )
    locked = list(session.scalars(select(Promise.id).where(*overdue).order_by(Promise.id).with_for_update()))
    if not locked:
        return 0, 0
    paid = func.coalesce(func.sum(Payment.amount), 0)
    rows = session.execute(
        select(Promise.id, Promise.account_id, Promise.visit_id, Promise.promise_amount, Promise.paid_amount, paid)
        .outerjoin(
            Payment,
            (Payment.account_id == Promise.account_id)
            & (Payment.paid_on >= Promise.made_on)
            & (Payment.paid_on <= Promise.promise_date),
        )
        .where(Promise.id.in_(locked))
        .group_by(Promise.id, Promise.account_id, Promise.visit_id, Promise.promise_amount, Promise.paid_amount)
    ).all()
    now, changes, audits, causes = utcnow(), [], [], []
    for promise_id, account_id, visit_id, amount, paid_before, paid_now in rows:
        paid_now = Decimal(paid_now).quantize(Decimal("0.01"))
        status = PromiseStatus.KEPT if paid_now >= amount else PromiseStatus.BROKEN
        stamp = {"kept_at": now} if status == PromiseStatus.KEPT else {"broken_at": now}
        changes.append({"id": promise_id, "status": status.value, "paid_amount": paid_now, **stamp})
        audits.append(
            {
                "action": f"promise.{status.value}",
                "entity_type": "promise",
                "entity_id": promise_id,
                "dealership_id": dealership_id,
                "changes": field_changes(
                    {"status": "pending", "paid_amount": paid_before}, {"status": status, "paid_amount": paid_now}
                ),
            }
        )
        if status == PromiseStatus.BROKEN:
            causes.append(promise_cause(promise_id, dealership_id, account_id, visit_id, day + timedelta(days=1)))
    for status in (PromiseStatus.KEPT, PromiseStatus.BROKEN):
        batch = [c for c in changes if c["status"] == status]
        if batch:
            session.execute(update(Promise), batch)
    record_audits(session, actor=None, entries=audits)
    return len(causes), len(raise_follow_ups(session, actor=None, causes=causes))


def get_promise(session: Session, actor: User, promise_id: int) -> Promise:
    """Raises NotFound, also for another lot's promise."""
    return get_scoped(session, Promise, promise_id, actor, "Promise")


def list_promises_query(
    actor: User,
    *,
    dealership_id: int | None = None,
    account_id: int | None = None,
    status: str | None = None,
    due_from: date | None = None,
    due_to: date | None = None,
) -> Select:
    stmt = scoped(select(Promise), actor, Promise.dealership_id)
    for column, value in (
        (Promise.dealership_id, dealership_id),
        (Promise.account_id, account_id),
        (Promise.status, status),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if due_from is not None:
        stmt = stmt.where(Promise.promise_date >= due_from)
    if due_to is not None:
        stmt = stmt.where(Promise.promise_date <= due_to)
    return stmt.order_by(Promise.promise_date, Promise.id)
