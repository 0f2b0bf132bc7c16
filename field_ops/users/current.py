"""The user the current request authenticated as (`requires_login` resolves it first)."""

from __future__ import annotations

from flask import g

from field_ops.users.models import User


def current_user() -> User:
    return g.current_user
