from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, UTCDateTime, utcnow


class Channel(enum.StrEnum):
    CALL = "call"
    TEXT = "text"
    EMAIL = "email"
    IN_PERSON = "in_person"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Resolution(enum.StrEnum):
    PV_BOOKED = "pv_booked"
    APPOINTMENT_SET = "appointment_set"
    PAYMENT_ARRANGED = "payment_arranged"
    RESOLVED_BY_OFFICE = "resolved_by_office"
    ESCALATED_TO_DEALERSHIP = "escalated_to_dealership"
    NO_RESOLUTION = "no_resolution"


class Contact(Base):
    """A text, call, email or talk with a customer, and what came of it."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_dealership_at", "dealership_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"))
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str] = mapped_column(String(30))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
