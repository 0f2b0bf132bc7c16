"""The flask-smorest Api, and the decorators that document errors and guard endpoints."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask_smorest import Api, Blueprint

from field_ops.core.schemas import ProblemSchema

ERROR_DESCRIPTIONS = {
    400: "Malformed request (for example invalid JSON)",
    401: "Missing, invalid, expired or revoked token",
    403: "Authenticated but not allowed",
    404: "Not found, or not in the caller's scope",
    409: "Conflicts with the current state",
    412: "If-Match does not match the current ETag",
    413: "Request body too large",
    422: "Invalid input; `errors` names the fields",
    428: "If-Match header required",
    429: "Too many attempts; see Retry-After",
}


class FieldOpsApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """Errors are registered by `field_ops.core.errors` as problem+json instead."""


def documents_errors(blp: Blueprint, *statuses: int) -> Callable:
    """Document the problem+json responses an endpoint can answer with."""

    def decorator(func: Callable) -> Callable:
        for status in statuses:
            func = blp.alt_response(
                status,
                schema=ProblemSchema,
                description=ERROR_DESCRIPTIONS.get(status, "Error"),
                content_type="application/problem+json",
            )(func)
        return func

    return decorator


def requires_login(blp: Blueprint, *roles: str, errors: tuple[int, ...] = ()) -> Callable:
    """Guard an endpoint: a valid access token, and one of `roles` when given (403 otherwise)."""
    from field_ops.core.auth import authenticate_request
    from field_ops.core.errors import Forbidden

    def decorator(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args, **kwargs):
            user = authenticate_request()
            if roles and user.role not in roles:
                raise Forbidden("Your role may not do this.")
            return func(*args, **kwargs)

        wrapper = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        statuses = (401, 403, *errors) if roles else (401, *errors)
        return documents_errors(blp, *statuses)(wrapper)

    return decorator
