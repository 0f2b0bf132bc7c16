"""Every error the service can produce, as RFC 9457 problem+json with a stable `code`.

Domain code raises a `ProblemError` subclass; HTTP exceptions from Flask and webargs,
database conflicts and stray exceptions are turned into the same shape here.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response
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

    @classmethod
    def at(cls, field: str, message: str, **extra: Any) -> ValidationFailed:
        """This refusal, naming the one field it is about, with `message` as the detail too."""
        return cls(f"{field}: {message}", errors={field: [message]}, **extra)


class NotYetHappened(ValidationFailed):
    """A time reported as past (a contact, a payment, a check-in) lies in the future."""

    title = "Not yet happened"


def field_error(field: str, message: str, **extra: Any) -> ValidationFailed:
    """A 422 for a value that is not valid input (format, range, a missing companion field);
    a business refusal raises its own class with `.at(field, message)`."""
    return ValidationFailed.at(field, message, **extra)


class MalformedJson(ProblemError):
    code, title = "malformed_json", "Malformed JSON"


class MethodNotAllowed(ProblemError):
    status, code, title = 405, "method_not_allowed", "Method not allowed"


class NotAcceptable(ProblemError):
    status, code, title = 406, "not_acceptable", "Not acceptable"


class PreconditionFailed(ProblemError):
    status, code, title = 412, "precondition_failed", "Precondition failed"


class PayloadTooLarge(ProblemError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class ValueOutOfRange(ValidationFailed):
    code, title = "value_out_of_range", "Value out of range"


class PreconditionRequired(ProblemError):
    status, code, title = 428, "precondition_required", "Precondition required"


class TooManyRequests(ProblemError):
    status, code, title = 429, "too_many_requests", "Too many requests"


class InternalError(ProblemError):
    status, code, title = 500, "internal_error", "Internal server error"


class ServiceUnavailable(ProblemError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The one refusal for a database that is down, silent or out of connections."""

    code, title = "database_unavailable", "Database unavailable"


class HttpError(ProblemError):
    """Any other HTTP error status werkzeug raises: `title` is its name."""

    code = "http_error"


# An HTTP error werkzeug raises (routing, flask-smorest's ETag checks, webargs) answers as
# the class of its status.
_HTTP_ERRORS: dict[int, type[ProblemError]] = {
    cls.status: cls
    for cls in (
        ProblemError,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        ValidationFailed,
        PreconditionRequired,
        TooManyRequests,
        InternalError,
        ServiceUnavailable,
    )
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
    return _respond(error)


def _respond(error: ProblemError) -> Response:
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
    known = _HTTP_ERRORS.get(status)
    code, title = (known.code, known.title) if known else (HttpError.code, error.name)
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
            code, title, detail = MalformedJson.code, MalformedJson.title, "The request body is not valid JSON."
            errors = None
        elif errors:
            detail = describe_errors(errors)
    if status == 413:
        detail = "The request body is larger than this service accepts."
    if data and data.get("headers"):
        headers.update(data["headers"])
    return problem_response(status, code, title, detail, errors=errors, headers=headers)


def handle_integrity_error(error: IntegrityError) -> Response:
    rollback_request_session()
    log.info("integrity error turned into 409: %s", error.orig)
    return _respond(Conflict("The change conflicts with existing data (a duplicate or a missing reference)."))


def handle_out_of_range(error: Exception) -> Response:
    rollback_request_session()
    log.info("value refused by the database or the runtime: %s", error)
    return _respond(ValueOutOfRange("A value in the request is too large or not storable."))


def handle_too_deep(error: RecursionError) -> Response:
    rollback_request_session()
    return _respond(MalformedJson("The request body is nested too deeply."))


def handle_operational_error(error: OperationalError | PoolTimeout) -> Response:
    rollback_request_session()
    log.exception("database unavailable")
    return _respond(DatabaseUnavailable("The database is unavailable."))


def handle_unexpected(error: Exception) -> Response:
    rollback_request_session()
    log.exception("unhandled error")
    return _respond(InternalError("Something went wrong on our side."))


def init_app(app: Flask) -> None:
    app.register_error_handler(ProblemError, handle_problem)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(PoolTimeout, handle_operational_error)  # no connection free in time
    app.register_error_handler(DataError, handle_out_of_range)
    app.register_error_handler(OverflowError, handle_out_of_range)
    app.register_error_handler(RecursionError, handle_too_deep)
    app.register_error_handler(Exception, handle_unexpected)
