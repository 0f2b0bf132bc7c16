from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, UTCDateTime, utcnow


class SchedulePublication(Base):
    """The published state of one lot-day's schedule: its version and what it looked like."""

    __tablename__ = "schedule_publications"
    __table_args__ = (UniqueConstraint("dealership_id", "date", name="uq_schedule_publications_dealership_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"))
    date: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(default=0)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rows_fingerprint: Mapped[str | None] = mapped_column(String(64))


class CalendarToken(Base):
    """A rep's calendar feed token, stored only as its SHA-256; rotating replaces the row."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
