from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, UTCDateTime, utcnow


class Campaign(Base):
    """A burst of personal visits booked for a segment of one lot's accounts over a few days."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    window_start: Mapped[str] = mapped_column(String(5))
    window_end: Mapped[str] = mapped_column(String(5))
    max_visits_per_day: Mapped[int] = mapped_column()
    priority: Mapped[str] = mapped_column(String(10))
    segment: Mapped[dict[str, Any]] = mapped_column(JSON)
    partial: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignResult(Base):
    """What the campaign did with one account of its segment: booked a visit, or skipped it and why."""

    __tablename__ = "campaign_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[str] = mapped_column(String(10))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    date: Mapped[date | None] = mapped_column(Date)
    code: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)
