from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, UTCDateTime, utcnow


class FollowUpKind(enum.StrEnum):
    REBOOK_MISSED_VISIT = "rebook_missed_visit"
    BROKEN_PROMISE = "broken_promise"
    SKIP_TRACE = "skip_trace"
    DEALERSHIP_APPOINTMENT = "dealership_appointment"


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    DISMISSED = "dismissed"


class FollowUp(Base):
    """An item on the specialists' work queue. `cause` names what raised it (`visit:12:skip_trace`,
    `promise:7`) and is unique: the database, not a check in Python, keeps a cause to one item."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_dealership_status", "dealership_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default=FollowUpStatus.OPEN)
    cause: Mapped[str] = mapped_column(String(100), unique=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    due_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
