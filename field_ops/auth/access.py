"""Access tokens: signing, verifying, and who the current request is.

An access token is a short-lived HS256 JWT naming the user (`sub`), its login (`sid`) and
itself (`jti`). Every request re-reads the login, the user and the user's dealerships from the
database, in one statement, so a logout, a deactivation or a change of lots stops or narrows a
token at once on every worker.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import Flask, current_app, g, request
from sqlalchemy import Select, bindparam, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached

from field_ops.auth.errors import InvalidToken
from field_ops.auth.models import LoginSession
from field_ops.core.db import get_session, mapped_columns, utcnow
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
    claims, expires_at = _verified_claims(token, current_app.config["SECRET_KEY"])
    if time.time() >= expires_at:
        raise InvalidToken("The access token has expired: refresh it.")
    return claims


@functools.lru_cache(maxsize=8192)
def _verified_claims(token: str, key: str) -> tuple[AccessClaims, float]:
    """A token's claims and expiry once its signature, form and type have checked out. Kept per
    process by the whole token (signature included) and the key: a phone sends the same token
    all day, and checking it again would give the same answer. Expiry is the caller's to check
    on every use; revocation is read from the database on every request. Failures are not kept."""
    try:
        claims = jwt.decode(token, key, algorithms=[JWT_ALGORITHM], options={"require": ["exp", "sub", "sid", "jti"]})
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("The access token has expired: refresh it.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("The access token is not valid.") from exc
    if claims.get("typ") != "access":
        raise InvalidToken("This is not an access token.")
    try:
        access = AccessClaims(user_id=int(claims["sub"]), session_id=str(claims["sid"]), jti=str(claims["jti"]))
        return access, float(claims["exp"])
    except (TypeError, ValueError) as exc:
        raise InvalidToken("The access token is not valid.") from exc


@functools.cache
def _sign_in_read() -> tuple[Select, tuple[str, ...]]:
    """The login, the user and the user's lots (with their zones: "today" is the lot's) in one
    round trip: a row per lot (one with NULLs for a user without any), none when the login is
    gone or belongs to someone else. Core, built once per process: every request runs it, and
    loading the user through the ORM costs more than the query. Returns the statement and the
    user's attribute names, the first columns of each row."""
    users, logins, lots = User.__table__, LoginSession.__table__, Dealership.__table__
    user_columns = mapped_columns(User)
    statement = (
        select(
            *(column for _key, column in user_columns),
            logins.c.revoked_at,
            user_dealerships.c.dealership_id,
            lots.c.timezone,
        )
        .select_from(users)
        .join(logins, logins.c.user_id == users.c.id)
        .outerjoin(user_dealerships, user_dealerships.c.user_id == users.c.id)
        .outerjoin(lots, lots.c.id == user_dealerships.c.dealership_id)
        .where(logins.c.id == bindparam("session_id"), users.c.id == bindparam("user_id"))
    )
    return statement, tuple(key for key, _column in user_columns)


def _as_loaded(session: Session, user_keys: tuple[str, ...], values: tuple) -> User:
    """The user of a sign-in row, in the session as if the ORM had loaded it: persistent, with no
    pending changes, so what a view changes on it is written as usual. One the session already
    holds is that one."""
    columns = dict(zip(user_keys, values, strict=True))
    held = session.identity_map.get(inspect(User).identity_key_from_primary_key((columns["id"],)))
    if held is not None:
        return held
    user = User(**columns)
    make_transient_to_detached(user)
    session.add(user)
    return user


def authenticate_request() -> User:
    """Resolve the bearer token to an active user with a live login; raises Unauthorized."""
    if "current_user" in g:
        return g.current_user
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token as `Authorization: Bearer <token>`.")
    claims = decode_access_token(token.strip())
    statement, user_keys = _sign_in_read()
    session = get_session()
    params = {"session_id": claims.session_id, "user_id": claims.user_id}
    rows = session.connection().execute(statement, params).all()
    revoked_at, lot_of, zone_of = len(user_keys), len(user_keys) + 1, len(user_keys) + 2
    if not rows or rows[0][revoked_at] is not None:
        raise InvalidToken("The token has been revoked.")
    user = _as_loaded(session, user_keys, rows[0][:revoked_at])
    if not user.active:
        raise InvalidToken("This user is deactivated.")
    lots = {row[lot_of]: row[zone_of] for row in rows if row[lot_of] is not None}
    user.remember_dealership_ids(lots, lots)
    g.current_user = user
    g.current_claims = claims
    return user


def current_claims() -> AccessClaims:
    return g.current_claims


def init_app(app: Flask) -> None:
    """`requires_login` (core) authenticates through this; core knows no users."""
    app.extensions["field_ops.authenticate"] = authenticate_request
