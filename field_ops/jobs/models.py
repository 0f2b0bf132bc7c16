from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, UTCDateTime


class JobRunStatus(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"


class JobRun(Base):
    """One run of a scheduled job for one lot and day: the record the next run catches up from."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_dealership_day", "job", "dealership_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    dealership_id: Mapped[int | None] = mapped_column(ForeignKey("dealerships.id"))
    day: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class JobLock(Base):
    """A lock row for databases without advisory locks (SQLite): held until `locked_until`."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
