from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, Money, UTCDateTime, utcnow
from field_ops.geocoding.models import Located

RESTRICTIONS = ("cease_contact", "attorney_represented", "bankruptcy", "do_not_visit")


class Account(Located, Base):
    """A customer's financed car loan, the thing collections work is about."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(String(40), unique=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"), index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
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
    def restrictions(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in RESTRICTIONS}

    @property
    def active_restrictions(self) -> list[str]:
        return [name for name in RESTRICTIONS if getattr(self, name)]
