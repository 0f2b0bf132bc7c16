from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from field_ops.core.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    SPECIALIST = "specialist"
    MANAGER = "manager"
    REP = "rep"


user_dealerships = Table(
    "user_dealerships",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("dealership_id", ForeignKey("dealerships.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # A rep's working hours in the lot's zone ("HH:MM"); empty means the deployment default.
    shift_start: Mapped[str | None] = mapped_column(String(5))
    shift_end: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # By name: dealerships build on users (their scope), so users do not import them.
    dealerships: Mapped[list[Dealership]] = relationship(  # noqa: F821
        "Dealership", secondary=user_dealerships, lazy="selectin"
    )

    @property
    def dealership_ids(self) -> list[int]:
        return sorted(d.id for d in self.dealerships)

    @property
    def sees_all_dealerships(self) -> bool:
        return self.role in (Role.ADMIN, Role.SPECIALIST)
