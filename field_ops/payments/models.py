from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, Money, UTCDateTime, utcnow


class PromiseStatus(enum.StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    CHECK = "check"
    ACH = "ach"
    MONEY_ORDER = "money_order"
    ONLINE = "online"


class Promise(Base):
    """A promise to pay, made at a visit: kept once the payments from `made_on` through
    `promise_date` reach `promise_amount`, broken when still short after that date."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_dealership_status_date", "dealership_id", "status", "promise_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"), unique=True)
    made_on: Mapped[date] = mapped_column(Date)
    promise_date: Mapped[date] = mapped_column(Date)
    promise_amount: Mapped[Decimal] = mapped_column(Money)
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(String(20), default=PromiseStatus.PENDING)
    kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_account_paid_on", "account_id", "paid_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    paid_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
