from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field_ops.accounts.models import Account
from field_ops.core.db import Base, Money, UTCDateTime, utcnow


class VisitKind(enum.StrEnum):
    PERSONAL_VISIT = "personal_visit"
    DEALERSHIP_APPOINTMENT = "dealership_appointment"


class VisitStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    MISSED = "missed"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class OutcomeCode(enum.StrEnum):
    PAYMENT_COLLECTED = "payment_collected"
    PROMISE_TO_PAY = "promise_to_pay"
    NOT_HOME = "not_home"
    REFUSED = "refused"
    VEHICLE_NOT_PRESENT = "vehicle_not_present"
    CUSTOMER_MOVED = "customer_moved"
    WRONG_ADDRESS = "wrong_address"
    DISPUTE = "dispute"
    BANKRUPTCY_CLAIMED = "bankruptcy_claimed"
    VEHICLE_SURRENDERED = "vehicle_surrendered"
    APPOINTMENT_SET = "appointment_set"
    OTHER = "other"


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_dealership_date", "dealership_id", "scheduled_date"),
        Index("ix_visits_account_window", "account_id", "window_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"))
    kind: Mapped[str] = mapped_column(String(30))
    scheduled_date: Mapped[date] = mapped_column(Date)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(default=15)
    priority: Mapped[str] = mapped_column(String(10), default=Priority.NORMAL)
    reason: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=VisitStatus.SCHEDULED, index=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    assigned_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    route_id: Mapped[int | None] = mapped_column(ForeignKey("routes.id", ondelete="SET NULL"), index=True)
    sequence: Mapped[int | None] = mapped_column()
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime)
    travel_km: Mapped[float | None] = mapped_column(Float)
    follow_up_id: Mapped[int | None] = mapped_column()
    booked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_in_latitude: Mapped[float | None] = mapped_column(Float)
    check_in_longitude: Mapped[float | None] = mapped_column(Float)
    check_in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    on_site: Mapped[bool | None] = mapped_column()
    in_window: Mapped[bool | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    account: Mapped[Account] = relationship(lazy="joined")
    outcome: Mapped[Outcome | None] = relationship(
        "Outcome", primaryjoin="Outcome.visit_id == Visit.id", uselist=False, lazy="selectin", viewonly=True
    )

    @property
    def check_in(self) -> dict[str, Any] | None:
        """What the check-in at the door recorded, or None before it."""
        if self.checked_in_at is None:
            return None
        return {
            "at": self.checked_in_at,
            "latitude": self.check_in_latitude,
            "longitude": self.check_in_longitude,
            "accuracy_m": self.check_in_accuracy_m,
            "distance_m": self.distance_m,
            "on_site": self.on_site,
            "in_window": self.in_window,
        }


class Outcome(Base):
    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(30))
    amount_collected: Mapped[Decimal | None] = mapped_column(Money)
    payment_method: Mapped[str | None] = mapped_column(String(20))
    promise_date: Mapped[date | None] = mapped_column(Date)
    promise_amount: Mapped[Decimal | None] = mapped_column(Money)
    notes: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
