"""Imports every domain's models so the metadata (Alembic, tests) knows every table."""

from field_ops.accounts.models import Account
from field_ops.audit.models import AuditEntry
from field_ops.auth.models import LoginSession, RefreshToken
from field_ops.dealerships.models import Dealership
from field_ops.users.models import User, user_dealerships

__all__ = ["Account", "AuditEntry", "Dealership", "LoginSession", "RefreshToken", "User", "user_dealerships"]
