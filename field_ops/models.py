"""Imports every domain's models so the metadata (Alembic, tests) knows every table."""

from field_ops.accounts.models import Account
from field_ops.auth.models import LoginSession, RefreshToken
from field_ops.campaigns.models import Campaign, CampaignResult
from field_ops.contacts.models import Contact
from field_ops.core.audit import AuditEntry
from field_ops.core.idempotency import IdempotencyRecord
from field_ops.dealerships.models import Dealership
from field_ops.follow_ups.models import FollowUp
from field_ops.jobs.models import JobLock, JobRun
from field_ops.lot_issues.models import LotIssue, LotIssueComment
from field_ops.payments.models import Payment, Promise
from field_ops.routing.models import Route, RoutePlan
from field_ops.schedules.models import CalendarToken, SchedulePublication
from field_ops.sync.models import ChangeLogEntry
from field_ops.users.models import User, user_dealerships
from field_ops.visits.models import Outcome, Visit

__all__ = [
    "Account",
    "AuditEntry",
    "ChangeLogEntry",
    "CalendarToken",
    "Campaign",
    "CampaignResult",
    "Contact",
    "Dealership",
    "FollowUp",
    "JobLock",
    "JobRun",
    "Payment",
    "Promise",
    "IdempotencyRecord",
    "LotIssue",
    "LotIssueComment",
    "Outcome",
    "Route",
    "RoutePlan",
    "SchedulePublication",
    "Visit",
    "LoginSession",
    "RefreshToken",
    "User",
    "user_dealerships",
]
