from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import utcnow


class Located:
    """Columns and helpers of a record with a US postal address and a pin (dealership, account)."""

    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64))
    geocode_source: Mapped[str | None] = mapped_column(String(32))

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
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, at: datetime | None = None) -> date:
        """The date in this record's zone at `at` (default: now): a lot's today."""
        return (at or utcnow()).astimezone(self.zone).date()

    def set_address(self, address: dict[str, Any]) -> None:
        self.address_line1 = address["line1"]
        self.address_line2 = address.get("line2")
        self.city = address["city"]
        self.state = address["state"]
        self.postal_code = address["postal_code"]
