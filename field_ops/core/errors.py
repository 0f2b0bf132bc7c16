"""Every error the service can produce, as RFC 9457 problem+json with a stable `code`.

Domain code raises a `ProblemError` subclass; HTTP exceptions from Flask, webargs and
Flask-Limiter, database conflicts and stray exceptions are turned into the same shape here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from field_ops.core.db import commit_request_session, rollback_request_session

PROBLEM_CONTENT_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class ProblemError(Exception):
    """Base for every refusal: carries the status, title and stable machine-readable code."""

    status = 400
    code = "bad_request"
    title = "Bad request"
    # Set on refusals whose side effect must survive them (e.g. revoking a stolen token family).
    commit_changes = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


class NotFound(ProblemError):
    status, code, title = 404, "not_found", "Not found"


class Unauthorized(ProblemError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class InvalidCredentials(Unauthorized):
    code, title = "invalid_credentials", "Invalid email or password"


class InvalidToken(Unauthorized):
    code, title = "invalid_token", "Invalid or expired token"


class Forbidden(ProblemError):
    status, code, title = 403, "forbidden", "Not allowed"


class Conflict(ProblemError):
    status, code, title = 409, "conflict", "Conflict"


class UnsupportedMediaType(ProblemError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class InvalidTransition(Conflict):
    code, title = "invalid_transition", "Status change not allowed"


class ValidationFailed(ProblemError):
    status, code, title = 422, "validation_error", "Invalid input"

    @classmethod
    def from_errors(cls, errors: dict[str, list[str]]) -> ValidationFailed:
        """A refusal whose detail lists each field's messages."""
        return cls(describe_errors(errors), errors=errors)


def field_error(
    field: str, message: str, code: type[ValidationFailed] = ValidationFailed, **extra: Any
) -> ProblemError:
    """A 422 naming one field, with `message` as the detail too."""
    return code(f"{field}: {message}", errors={field: [message]}, **extra)


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition_failed", "Precondition failed"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_error", "Invalid input"),
    428: ("precondition_required", "Precondition required"),
    429: ("too_many_requests", "Too many requests"),
    500: ("internal_error", "Internal server error"),
    503: ("service_unavailable", "Service unavailable"),
}

_HTTP_DETAILS = {
    412: "The resource changed since you read it: fetch it again and retry with its new ETag.",
    428: "This request needs an If-Match header with the resource's ETag.",
    404: "Nothing is at this path.",
    405: "This method is not allowed on this path.",
    500: "Something went wrong on our side.",
}


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: dict[str, list[str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:field-ops:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def problem_of(error: ProblemError) -> dict[str, Any]:
    """The problem+json body of a domain refusal (also used inside batch results)."""
    return problem_body(error.status, error.code, error.title, error.detail, errors=error.errors, extra=error.extra)


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body = problem_body(status, code, title, detail, errors=errors, extra=extra)
    response = Response(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow/webargs nested messages into `{"field.sub": [messages]}`."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            if key == "_schema":
                name = prefix or "_schema"
            for sub_key, sub_value in flatten_messages(value, name).items():
                flat.setdefault(sub_key, []).extend(sub_value)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for item in messages:
            for sub_key, sub_value in flatten_messages(item, prefix).items():
                flat.setdefault(sub_key, []).extend(sub_value)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _webargs_errors(data: dict[str, Any] | None) -> dict[str, list[str]]:
    messages = (data or {}).get("messages") or (data or {}).get("errors") or {}
    merged: dict[str, Any] = {}
    for location, location_messages in messages.items():
        if isinstance(location_messages, dict):
            merged.update(location_messages)
        else:
            merged[location] = location_messages
    return flatten_messages(merged)


def describe_errors(errors: dict[str, list[str]]) -> str:
    parts = [f"{field}: {' '.join(messages)}" for field, messages in errors.items()]
    return "; ".join(parts) or "Invalid input"


def handle_problem(error: ProblemError) -> Response:
    if error.commit_changes:
        commit_request_session()
    else:
        rollback_request_session()
    return problem_response(
        error.status,
        error.code,
        error.title,
        error.detail,
        errors=error.errors,
        headers=error.headers,
        extra=error.extra,
    )


def handle_http_exception(error: HTTPException) -> Response:
    rollback_request_session()
    status = error.code or 500
    code, title = _HTTP_CODES.get(status, ("http_error", error.name))
    detail = _HTTP_DETAILS.get(status) or error.description or title
    headers: dict[str, str] = {}
    errors: dict[str, list[str]] | None = None
    data = getattr(error, "data", None)
    if status == 405:
        allow = error.get_headers()
        headers.update({k: v for k, v in allow if k.lower() == "allow"})
    if status in (400, 422) and data:
        errors = _webargs_errors(data)
        if status == 400 and "Invalid JSON body." in str(errors):
            code, title, detail = "malformed_json", "Malformed JSON", "The request body is not valid JSON."
            errors = None
        elif errors:
            detail = describe_errors(errors)
    if status == 413:
        detail = "The request body is larger than this service accepts."
    if data and data.get("headers"):
        headers.update(data["headers"])
    return problem_response(status, code, title, detail, errors=errors, headers=headers)


def handle_rate_limited(error: RateLimitExceeded) -> Response:
    rollback_request_session()
    from field_ops.core.limits import retry_after_seconds

    retry_after = retry_after_seconds()
    return problem_response(
        429,
        "too_many_attempts",
        "Too many attempts",
        "Too many failed attempts: wait before trying again.",
        headers={"Retry-After": str(retry_after)},
    )


def handle_integrity_error(error: IntegrityError) -> Response:
    rollback_request_session()
    log.info("integrity error turned into 409: %s", error.orig)
    return problem_response(
        409, "conflict", "Conflict", "The change conflicts with existing data (a duplicate or a missing reference)."
    )


def handle_out_of_range(error: Exception) -> Response:
    rollback_request_session()
    log.info("value refused by the database or the runtime: %s", error)
    return problem_response(
        422, "value_out_of_range", "Value out of range", "A value in the request is too large or not storable."
    )


def handle_too_deep(error: RecursionError) -> Response:
    rollback_request_session()
    return problem_response(400, "malformed_json", "Malformed JSON", "The request body is nested too deeply.")


def handle_operational_error(error: OperationalError | PoolTimeout) -> Response:
    rollback_request_session()
    log.exception("database unavailable")
    return problem_response(503, "service_unavailable", "Service unavailable", "The database is unavailable.")


def handle_unexpected(error: Exception) -> Response:
    rollback_request_session()
    log.exception("unhandled error")
    return problem_response(500, "internal_error", "Internal server error", "Something went wrong on our side.")


def init_app(app: Flask) -> None:
    app.register_error_handler(ProblemError, handle_problem)
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(PoolTimeout, handle_operational_error)  # no connection free in time
    app.register_error_handler(DataError, handle_out_of_range)
    app.register_error_handler(OverflowError, handle_out_of_range)
    app.register_error_handler(RecursionError, handle_too_deep)
    app.register_error_handler(Exception, handle_unexpected)
