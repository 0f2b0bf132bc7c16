from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from sqlalchemy import Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from field_ops.core.db import Base, UTCDateTime, utcnow


class IssueCategory(enum.StrEnum):
    GPS_DEVICE = "gps_device"
    PAPERWORK_TITLE = "paperwork_title"
    PAYMENT_PROCESSING = "payment_processing"
    FACILITY = "facility"
    STAFF_TRAINING = "staff_training"
    VEHICLE_CONDITION = "vehicle_condition"
    COLLECTION_PRACTICES = "collection_practices"
    CUSTOMER_COMMUNICATION = "customer_communication"
    OTHER = "other"


class IssueSeverity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class IssueStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Department(enum.StrEnum):
    COLLECTIONS = "collections"
    SERVICE = "service"
    GPS_SUPPORT = "gps_support"
    TITLE_OFFICE = "title_office"
    ACCOUNTING = "accounting"
    FACILITIES = "facilities"
    TRAINING = "training"
    MANAGEMENT = "management"


DEFAULT_DEPARTMENT = {
    IssueCategory.GPS_DEVICE: Department.GPS_SUPPORT,
    IssueCategory.PAPERWORK_TITLE: Department.TITLE_OFFICE,
    IssueCategory.PAYMENT_PROCESSING: Department.ACCOUNTING,
    IssueCategory.FACILITY: Department.FACILITIES,
    IssueCategory.STAFF_TRAINING: Department.TRAINING,
    IssueCategory.VEHICLE_CONDITION: Department.SERVICE,
    IssueCategory.COLLECTION_PRACTICES: Department.COLLECTIONS,
    IssueCategory.CUSTOMER_COMMUNICATION: Department.COLLECTIONS,
    IssueCategory.OTHER: Department.MANAGEMENT,
}
DAYS_TO_RESOLVE = {
    IssueSeverity.CRITICAL: 1,
    IssueSeverity.HIGH: 3,
    IssueSeverity.MEDIUM: 7,
    IssueSeverity.LOW: 14,
}
# Not yet resolved: these count as open, and only these can be overdue.
UNRESOLVED = (IssueStatus.OPEN, IssueStatus.ACKNOWLEDGED, IssueStatus.IN_PROGRESS)
UNRESOLVED_SQL = "status IN ('open', 'acknowledged', 'in_progress')"


def due_at_for(severity: str, filed_at: datetime) -> datetime:
    return filed_at + timedelta(days=DAYS_TO_RESOLVE[IssueSeverity(severity)])


class LotIssue(Base):
    __tablename__ = "lot_issues"
    __table_args__ = (
        Index("ix_lot_issues_dealership_status", "dealership_id", "status", "created_at"),
        Index("ix_lot_issues_dealership_created_on", "dealership_id", "created_on"),
        # The summaries read only unresolved issues: a partial index in filing order per lot
        # that also carries what they count, so neither reads the table nor sorts.
        Index(
            "ix_lot_issues_unresolved",
            "dealership_id",
            "created_at",
            "category",
            "severity",
            "due_at",
            postgresql_where=text(UNRESOLVED_SQL),
            sqlite_where=text(UNRESOLVED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealerships.id"))
    category: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=IssueStatus.OPEN)
    assigned_department: Mapped[str] = mapped_column(String(20))
    reported_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The lot-local date of filing: what `created_from`/`created_to` and the weekly counts use.
    created_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def overdue(self) -> bool:
        """Computed at read time, never stored: it turns true as the clock passes `due_at`."""
        return self.status in UNRESOLVED and self.due_at < utcnow()


class LotIssueComment(Base):
    __tablename__ = "lot_issue_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_issue_id: Mapped[int] = mapped_column(ForeignKey("lot_issues.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
