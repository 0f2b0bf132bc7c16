from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, UTCDateTime, utcnow


class ChangeLogEntry(Base):
    """One change to a synced entity, written in the transaction that made it.

    `seq` orders the log; it is allocated at commit under one lock (see `capture.py`), so a
    reader that has seen seq N will never later see a committed row below N. The owner columns
    say whom the change concerns: the lot and rep after the change and before it, so whoever
    the entity left still hears about it. `user_id` addresses a row to one user only (their
    scope changed: a lot gained or lost).
    """

    __tablename__ = "change_log"
    __table_args__ = (
        Index("ix_change_log_rep_seq", "rep_id", "seq"),
        Index("ix_change_log_previous_rep_seq", "previous_rep_id", "seq"),
        Index("ix_change_log_dealership_seq", "dealership_id", "seq"),
        Index("ix_change_log_previous_dealership_seq", "previous_dealership_id", "seq"),
        Index("ix_change_log_user_seq", "user_id", "seq"),
        Index("ix_change_log_entity", "entity_type", "entity_id"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column()
    dealership_id: Mapped[int | None] = mapped_column()
    previous_dealership_id: Mapped[int | None] = mapped_column()
    rep_id: Mapped[int | None] = mapped_column()
    previous_rep_id: Mapped[int | None] = mapped_column()
    user_id: Mapped[int | None] = mapped_column()
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
