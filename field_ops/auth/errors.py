"""Refusals of the auth domain, each with its stable `code`."""

from __future__ import annotations

from field_ops.core.errors import Unauthorized


class InvalidCredentials(Unauthorized):
    code, title = "invalid_credentials", "Invalid email or password"


class InvalidToken(Unauthorized):
    code, title = "invalid_token", "Invalid or expired token"


class RefreshTokenReused(InvalidToken):
    code, title = "refresh_token_reused", "Refresh token already used"
    # The revocation of the token family is the point of this refusal: keep it.
    commit_changes = True
