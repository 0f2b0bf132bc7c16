from __future__ import annotations

from field_ops.auth import service
from field_ops.auth.access import current_claims
from field_ops.auth.schemas import LogoutRequestSchema, RefreshRequestSchema, TokenPairSchema, TokenRequestSchema
from field_ops.core.api import Blueprint, documents_errors, requires_login
from field_ops.core.db import get_session
from field_ops.core.limits import claim_login_attempt, release_login_attempt

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign in, refresh, sign out")


@blp.route("/token", methods=["POST"])
@documents_errors(blp, 400, 401, 422, 429)
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenPairSchema)
def issue_token(body):
    """Sign in with email and password

    Answers 429 `too_many_attempts` with `Retry-After` after repeated failures for one
    email or one client address.
    """
    claimed = claim_login_attempt()
    pair = service.log_in(get_session(), body["email"], body["password"])
    release_login_attempt(claimed)
    return pair


@blp.route("/refresh", methods=["POST"])
@documents_errors(blp, 400, 401, 422)
@blp.arguments(RefreshRequestSchema)
@blp.response(200, TokenPairSchema)
def refresh(body):
    """Swap a refresh token for a new pair (a refresh token works once)

    Reusing a refresh token that was already swapped revokes the whole login.
    """
    return service.refresh_tokens(get_session(), body["refresh_token"])


@blp.route("/logout", methods=["POST"])
@requires_login(blp, errors=(400, 422))
@blp.arguments(LogoutRequestSchema, required=False)
@blp.response(204)
def logout(body):
    """Sign out: the access token and its login's refresh tokens stop working at once"""
    service.log_out(get_session(), current_claims().session_id, (body or {}).get("refresh_token"))
