from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Date, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field_ops.core.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from field_ops.users.models import User
    from field_ops.visits.models import Visit


class RoutePlan(Base):
    """One lot-day's plan. Its row is the lock two planners of the same lot-day queue on."""

    __tablename__ = "route_plans"
    __table_args__ = (UniqueConstraint("dealership_id", "date", name="uq_route_plans_dealership_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"))
    date: Mapped[date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(10), default="full")
    matrix_source: Mapped[str | None] = mapped_column(String(40))
    unassigned: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    planned_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Route(Base):
    """One rep's ordered stops for one day; the stops are the visits pointing at it."""

    __tablename__ = "routes"
    # Replaced plans delete their routes; a phone may still hold an old id, so never reuse one.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("route_plans.id", ondelete="CASCADE"), index=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"), index=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    total_km: Mapped[float] = mapped_column(Float, default=0.0)
    total_travel_minutes: Mapped[float] = mapped_column(Float, default=0.0)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    map_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stops: Mapped[list[Visit]] = relationship("Visit", order_by="Visit.sequence", lazy="selectin", viewonly=True)
    rep: Mapped[User] = relationship("User", lazy="selectin", viewonly=True)

    @property
    def map_url(self) -> str | None:
        return self.map_urls[0] if self.map_urls else None
