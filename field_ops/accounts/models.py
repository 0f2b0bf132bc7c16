from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, Money, UTCDateTime, utcnow

RESTRICTIONS = ("cease_contact", "attorney_represented", "bankruptcy", "do_not_visit")


class Account(Base):
    """A customer's financed car loan, the thing collections work is about."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(String(40), unique=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64))
    geocode_source: Mapped[str | None] = mapped_column(String(32))
    days_past_due: Mapped[int] = mapped_column(default=0, index=True)
    amount_due: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    cease_contact: Mapped[bool] = mapped_column(default=False)
    attorney_represented: Mapped[bool] = mapped_column(default=False)
    bankruptcy: Mapped[bool] = mapped_column(default=False)
    do_not_visit: Mapped[bool] = mapped_column(default=False)
    restriction_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def address(self) -> dict[str, str | None]:
        return {
            "line1": self.address_line1,
            "line2": self.address_line2,
            "city": self.city,
            "state": self.state,
            "postal_code": self.postal_code,
        }

    @property
    def restrictions(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in RESTRICTIONS}

    @property
    def active_restrictions(self) -> list[str]:
        return [name for name in RESTRICTIONS if getattr(self, name)]
