"""Access tokens: signing, verifying, and who the current request is.

An access token is a short-lived HS256 JWT naming the user (`sub`), its login (`sid`) and
itself (`jti`). Every request re-reads the login, the user and the user's dealerships from the
database, in one statement, so a logout, a deactivation or a change of lots stops or narrows a
token at once on every worker.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import Flask, current_app, g, request
from sqlalchemy import Select, bindparam, select

from field_ops.auth.errors import InvalidToken
from field_ops.auth.models import LoginSession
from field_ops.core.db import get_session, utcnow
from field_ops.core.errors import Unauthorized
from field_ops.dealerships.models import Dealership
from field_ops.users.models import User, user_dealerships

JWT_ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: str
    jti: str


def encode_access_token(user_id: int, session_id: str) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    ttl = int(current_app.config["ACCESS_TOKEN_TTL_SECONDS"])
    now = utcnow()
    claims = {
        "sub": str(user_id),
        "sid": session_id,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
    }
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=JWT_ALGORITHM), ttl


def decode_access_token(token: str) -> AccessClaims:
    """Verify signature, expiry and type; raises InvalidToken."""
    try:
        claims = jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub", "sid", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("The access token has expired: refresh it.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("The access token is not valid.") from exc
    if claims.get("typ") != "access":
        raise InvalidToken("This is not an access token.")
    try:
        return AccessClaims(user_id=int(claims["sub"]), session_id=str(claims["sid"]), jti=str(claims["jti"]))
    except (TypeError, ValueError) as exc:
        raise InvalidToken("The access token is not valid.") from exc


@functools.cache
def _sign_in_statement() -> Select:
    """The login, the user and the user's lots (with their zones: "today" is the lot's) in one
    round trip: a row per lot (one with NULLs for a user without any), none when the login is
    gone or belongs to someone else. Built once per process: every request runs it."""
    return (
        select(User, LoginSession.revoked_at, user_dealerships.c.dealership_id, Dealership.timezone)
        .join(LoginSession, LoginSession.user_id == User.id)
        .outerjoin(user_dealerships, user_dealerships.c.user_id == User.id)
        .outerjoin(Dealership, Dealership.id == user_dealerships.c.dealership_id)
        .where(LoginSession.id == bindparam("session_id"), User.id == bindparam("user_id"))
    )


def authenticate_request() -> User:
    """Resolve the bearer token to an active user with a live login; raises Unauthorized."""
    if "current_user" in g:
        return g.current_user
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token as `Authorization: Bearer <token>`.")
    claims = decode_access_token(token.strip())
    rows = get_session().execute(_sign_in_statement(), {"session_id": claims.session_id, "user_id": claims.user_id})
    rows = rows.all()
    if not rows or rows[0].revoked_at is not None:
        raise InvalidToken("The token has been revoked.")
    user = rows[0].User
    if not user.active:
        raise InvalidToken("This user is deactivated.")
    lots = {row.dealership_id: row.timezone for row in rows if row.dealership_id is not None}
    user.remember_dealership_ids(lots, lots)
    g.current_user = user
    g.current_claims = claims
    return user


def current_claims() -> AccessClaims:
    return g.current_claims


def init_app(app: Flask) -> None:
    """`requires_login` (core) authenticates through this; core knows no users."""
    app.extensions["field_ops.authenticate"] = authenticate_request
