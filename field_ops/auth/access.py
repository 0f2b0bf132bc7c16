"""Access tokens: signing, verifying, and who the current request is.

An access token is a short-lived HS256 JWT naming the user (`sub`), its login (`sid`) and
itself (`jti`). Every request re-reads the user and the login from the database, so a
logout or a deactivation stops a token at once on every worker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import Flask, current_app, g, request

from field_ops.auth.errors import InvalidToken
from field_ops.auth.models import LoginSession
from field_ops.core.db import get_session, utcnow
from field_ops.core.errors import Unauthorized
from field_ops.users.models import User

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


def authenticate_request() -> User:
    """Resolve the bearer token to an active user with a live login; raises Unauthorized."""
    if "current_user" in g:
        return g.current_user
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token as `Authorization: Bearer <token>`.")
    claims = decode_access_token(token.strip())
    session = get_session()
    login = session.get(LoginSession, claims.session_id)
    if login is None or login.revoked_at is not None or login.user_id != claims.user_id:
        raise InvalidToken("The token has been revoked.")
    user = session.get(User, claims.user_id)
    if user is None or not user.active:
        raise InvalidToken("This user is deactivated.")
    g.current_user = user
    g.current_claims = claims
    return user


def current_claims() -> AccessClaims:
    return g.current_claims


def init_app(app: Flask) -> None:
    """`requires_login` (core) authenticates through this; core knows no users."""
    app.extensions["field_ops.authenticate"] = authenticate_request
