"""Imports every domain's models so the metadata (Alembic, tests) knows every table."""

from field_ops.accounts.models import Account
from field_ops.audit.models import AuditEntry
from field_ops.auth.models import LoginSession, RefreshToken
from field_ops.core.idempotency import IdempotencyRecord
from field_ops.dealerships.models import Dealership
from field_ops.routing.models import Route, RoutePlan
from field_ops.sync.models import ChangeLogEntry
from field_ops.users.models import User, user_dealerships
from field_ops.visits.models import Outcome, Visit

__all__ = [
    "Account",
    "AuditEntry",
    "ChangeLogEntry",
    "Dealership",
    "IdempotencyRecord",
    "Outcome",
    "Route",
    "RoutePlan",
    "Visit",
    "LoginSession",
    "RefreshToken",
    "User",
    "user_dealerships",
]
