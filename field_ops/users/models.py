from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, event
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

    # Loaded when read: a request's user arrives with only the ids of its lots (see
    # `authenticate_request`), which is all the scope rule needs. By name: dealerships build
    # on users (their scope), so users do not import them.
    dealerships: Mapped[list[Dealership]] = relationship("Dealership", secondary=user_dealerships)  # noqa: F821

    @property
    def dealership_ids(self) -> list[int]:
        known = self.__dict__.get("_known_dealership_ids")
        if known is not None:
            return list(known)
        return sorted(d.id for d in self.dealerships)

    def remember_dealership_ids(self, ids: Iterable[int], zones: Mapping[int, str] | None = None) -> None:
        """The ids of this user's lots (and their time zones, when read too) as just read from
        the database; forgotten as soon as `dealerships` changes in this session."""
        self.__dict__["_known_dealership_ids"] = sorted(set(ids))
        self.__dict__["_known_dealership_zones"] = dict(zones or {})

    def known_zone(self, dealership_id: int) -> str | None:
        """The time zone of one of the user's lots, when read with them."""
        return self.__dict__.get("_known_dealership_zones", {}).get(dealership_id)

    @property
    def sees_all_dealerships(self) -> bool:
        return self.role in (Role.ADMIN, Role.SPECIALIST)


@event.listens_for(User.dealerships, "append")
@event.listens_for(User.dealerships, "remove")
@event.listens_for(User.dealerships, "bulk_replace")
def _forget_known_dealership_ids(user: User, *_args) -> None:
    user.__dict__.pop("_known_dealership_ids", None)
    user.__dict__.pop("_known_dealership_zones", None)
