"""Logging in, refreshing with rotation, logging out."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from field_ops.auth.access import encode_access_token
from field_ops.auth.errors import InvalidCredentials, InvalidToken, RefreshTokenReused
from field_ops.auth.models import LoginSession, RefreshToken
from field_ops.core.db import utcnow
from field_ops.core.digest import sha256_hex
from field_ops.core.passwords import verify_password
from field_ops.users.models import User
from field_ops.users.signals import logins_ended


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


def _issue_pair(session: Session, login: LoginSession) -> TokenPair:
    refresh_token = secrets.token_urlsafe(48)
    ttl = int(current_app.config["REFRESH_TOKEN_TTL_SECONDS"])
    session.add(
        RefreshToken(
            session_id=login.id,
            token_hash=sha256_hex(refresh_token),
            expires_at=utcnow() + timedelta(seconds=ttl),
        )
    )
    access_token, expires_in = encode_access_token(login.user_id, login.id)
    return TokenPair(access_token=access_token, refresh_token=refresh_token, expires_in=expires_in)


def log_in(session: Session, email: str, password: str) -> TokenPair:
    """Start a login for an active user. Raises InvalidCredentials."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
        raise InvalidCredentials("The email or password is wrong, or the account is disabled.")
    login = LoginSession(id=str(uuid.uuid4()), user_id=user.id)
    session.add(login)
    session.flush()
    return _issue_pair(session, login)


def revoke_login(login: LoginSession, reason: str) -> None:
    if login.revoked_at is None:
        login.revoked_at = utcnow()
        login.revoked_reason = reason


def revoke_all_logins(session: Session, user_id: int, reason: str) -> None:
    """End every login of a user (deactivation)."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def refresh_tokens(session: Session, refresh_token: str) -> TokenPair:
    """Swap a refresh token for a new pair; it works once.

    Raises InvalidToken (unknown, expired, revoked, user disabled) and RefreshTokenReused,
    which also revokes the whole login: a reused token means it may have been stolen.
    """
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(refresh_token)))
    if stored is None:
        raise InvalidToken("Unknown refresh token.")
    login = session.get(LoginSession, stored.session_id)
    if login is None or login.revoked_at is not None:
        raise InvalidToken("This login has ended: sign in again.")
    if stored.expires_at <= utcnow():
        raise InvalidToken("The refresh token has expired: sign in again.")
    user = session.get(User, login.user_id)
    if user is None or not user.active:
        raise InvalidToken("This user is deactivated.")
    # A conditional update, so two concurrent uses of one token cannot both succeed.
    claimed = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        revoke_login(login, "refresh_token_reused")
        raise RefreshTokenReused("This refresh token was already used; the login is revoked. Sign in again.")
    return _issue_pair(session, login)


def log_out(session: Session, login_session_id: str, refresh_token: str | None = None) -> None:
    """End the login the access token belongs to (and the one of `refresh_token`, if another)."""
    login = session.get(LoginSession, login_session_id)
    if login is not None:
        revoke_login(login, "logout")
    if refresh_token:
        stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(refresh_token)))
        if stored is not None:
            other = session.get(LoginSession, stored.session_id)
            if other is not None and other.user_id == (login.user_id if login else None):
                revoke_login(other, "logout")


@logins_ended.connect
def _end_logins(session: Session, *, user_id: int, reason: str) -> None:
    revoke_all_logins(session, user_id, reason)
