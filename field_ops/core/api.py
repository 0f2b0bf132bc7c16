"""The flask-smorest Api, the conventions every operation's document follows, and the
decorators that document errors and guard endpoints.

The conventions live here, in the code that writes the OpenAPI document, so a new endpoint
inherits them without doing anything:

- `operationId` is `<blueprint>_<view function>` (a `MethodView`'s is
  `<blueprint>_<method>_<class in snake case>`), unless the view sets one with `blp.doc`;
- an operation without `requires_login` is public: `security: []`;
- errors are `application/problem+json`, the default response included; a 401 documents
  `WWW-Authenticate`, a 429 `Retry-After`, a 201 `Location`, a 304 `ETag`; an operation that
  takes a body documents 415 (a body of another media type is refused with 415);
- in a response schema every `dump_only` field is `required` (it is always in the body, null
  when it is `allow_none`) unless it says `metadata={"optional": True}`; an enum that allows
  null is nullable, not an enum listing null.
"""

from __future__ import annotations

import functools
import http
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask import Flask, current_app, request
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser

from field_ops.core.errors import Forbidden
from field_ops.core.schemas import Money, ProblemSchema

PROBLEM_CONTENT_TYPE = "application/problem+json"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

ERROR_DESCRIPTIONS = {
    400: "Malformed request (for example invalid JSON)",
    401: "Missing, invalid, expired or revoked token",
    403: "Authenticated but not allowed",
    404: "Not found, or not in the caller's scope",
    409: "Conflicts with the current state",
    412: "If-Match does not match the current ETag",
    413: "Request body too large",
    415: "The request body's Content-Type is not one this operation takes",
    422: "Invalid input; `errors` names the fields",
    428: "If-Match header required",
    429: "Too many attempts; see Retry-After",
}

HEADERS = {
    "WWW_AUTHENTICATE": {
        "description": "The authentication scheme to use (`Bearer`)",
        "schema": {"type": "string"},
    },
    "RETRY_AFTER": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    },
    "LOCATION": {
        "description": "The URL of the created resource",
        "schema": {"type": "string"},
    },
    "VARY": {
        "description": "`Accept`: the representation depends on the Accept header",
        "schema": {"type": "string"},
    },
}
# Headers every response of a status code carries.
STATUS_HEADERS = {"401": {"WWW-Authenticate": "WWW_AUTHENTICATE"}, "429": {"Retry-After": "RETRY_AFTER"}}
STATUS_HEADERS["201"] = {"Location": "LOCATION"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def operation_id(endpoint: str, method: str, methods: set[str]) -> str:
    """`visits.record_outcome` POST -> `visits_record_outcome`; `visits.VisitById` GET ->
    `visits_get_visit_by_id`; a function serving several methods gets the method too."""
    blueprint, _, view = endpoint.rpartition(".")
    name = _snake(view)
    served = {m.lower() for m in methods} - {"head", "options"}
    if view[:1].isupper() or len(served) > 1:
        name = f"{method}_{name}"
    return f"{blueprint}_{name}" if blueprint else name


class FieldOpsConverter(OpenAPIConverter):
    """Schema conversion with the project's response conventions (see the module docstring)."""

    def fields2jsonschema(self, fields, *, partial=None):
        jsonschema = super().fields2jsonschema(fields, partial=partial)
        always = {
            field.data_key or name
            for name, field in fields.items()
            if field.dump_only and not field.metadata.get("optional")
        }
        if always:
            jsonschema["required"] = sorted(set(jsonschema.get("required", [])) | always)
        return jsonschema

    def field2choices(self, field, **kwargs):
        attributes = super().field2choices(field, **kwargs)
        if None in attributes.get("enum", ()):
            attributes["enum"] = [choice for choice in attributes["enum"] if choice is not None]
        return attributes


class FieldOpsMarshmallowPlugin(MarshmallowPlugin):
    Converter = FieldOpsConverter


class OperationConventions(BasePlugin):
    """Completes every operation as it is added to the document (see the module docstring)."""

    def __init__(self) -> None:
        # endpoint -> method -> media types its request body may have
        self.body_types: dict[str, dict[str, set[str]]] = {}

    def init_spec(self, spec) -> None:
        self.spec = spec
        for name, header in HEADERS.items():
            spec.components.header(name, header)

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        for method, operation in (operations or {}).items():
            if method not in HTTP_METHODS:
                continue
            if rule is not None:
                operation.setdefault("operationId", operation_id(rule.endpoint, method, set(rule.methods or ())))
            operation.setdefault("security", [])
            responses = operation.setdefault("responses", {})
            body = operation.get("requestBody")
            if body:
                if rule is not None:
                    self.body_types.setdefault(rule.endpoint, {})[method.upper()] = set(body.get("content", {}))
                responses.setdefault(415, "UNSUPPORTED_MEDIA_TYPE")
            for status, response in list(responses.items()):
                headers = STATUS_HEADERS.get(str(status))
                if not headers:
                    continue
                if isinstance(response, str):  # a component response: document the headers here
                    response = responses[status] = {"$ref": f"#/components/responses/{response}"}
                    continue
                for header, component in headers.items():
                    response.setdefault("headers", {}).setdefault(header, {"$ref": f"#/components/headers/{component}"})


class FieldOpsApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app: Flask | None = None, *, spec_kwargs: dict[str, Any] | None = None, **kwargs) -> None:
        self.conventions = OperationConventions()
        spec_kwargs = dict(spec_kwargs or {})
        spec_kwargs.setdefault("marshmallow_plugin", FieldOpsMarshmallowPlugin())
        spec_kwargs.setdefault("extra_plugins", [self.conventions])
        super().__init__(app, spec_kwargs=spec_kwargs, **kwargs)

    def init_app(self, app, *, spec_kwargs=None):
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.register_field(Money, "string", "decimal")
        app.before_request(self._refuse_other_media_types)
        app.after_request(answer_conditional_get)

    def _register_error_handlers(self):
        """Errors are registered by `field_ops.core.errors` as problem+json instead."""

    def _register_responses(self):
        """flask-smorest's shared responses, as problem+json (and the 304 with its ETag)."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            headers = STATUS_HEADERS.get(str(status.value), {})
            if headers:
                response["headers"] = {name: {"$ref": f"#/components/headers/{c}"} for name, c in headers.items()}
            if status == 304:
                response["headers"] = {"ETag": {"$ref": "#/components/headers/ETAG"}}
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def _register_pagination_header(self):
        """X-Pagination is a JSON object in one header: documented as JSON content, not as an
        object serialized in the header's default (`simple`) style."""
        self.spec.components.header(
            "PAGINATION",
            {
                "description": "Pagination metadata",
                "content": {"application/json": {"schema": PaginationMetadataSchema}},
            },
            lazy=True,
        )

    def _refuse_other_media_types(self) -> None:
        """A body under a media type the operation does not take is 415, not a misleading 422."""
        accepted = self.conventions.body_types.get(request.endpoint or "", {}).get(request.method)
        if not accepted or not (request.content_length or request.headers.get("Transfer-Encoding")):
            return
        mimetype = request.mimetype
        if mimetype in accepted or (mimetype.endswith("+json") and "application/json" in accepted):
            return
        from field_ops.core.errors import UnsupportedMediaType

        raise UnsupportedMediaType(
            f"Send the body as {' or '.join(sorted(accepted))}, not {mimetype or 'no Content-Type'}."
        )


class SchemaReusingParser(FlaskParser):
    """webargs makes a new schema of a class on every request; one instance per class does the
    same work (a marshmallow schema keeps no state between loads)."""

    def _get_schema(self, argmap, req):
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            return _instance_of(argmap)
        return super()._get_schema(argmap, req)


@functools.cache
def _instance_of(schema_class: type[ma.Schema]) -> ma.Schema:
    return schema_class()


class Blueprint(flask_smorest.Blueprint):
    """Every domain's blueprint."""

    ARGUMENTS_PARSER = SchemaReusingParser()

    def _check_not_modified(self, etag):
        """Left to `answer_conditional_get`, which keeps the ETag on the 304."""


def answer_conditional_get(response):
    """304 for a GET whose If-None-Match matches the response's ETag (weak comparison, RFC
    9110 13.1.2) or whose If-Modified-Since is not older than its Last-Modified; the 304 keeps
    ETag, Cache-Control and Vary."""
    validator = response.headers.get("ETag") or response.headers.get("Last-Modified")
    if request.method in ("GET", "HEAD") and response.status_code == 200 and validator:
        response.make_conditional(request)
    return response


def documents_errors(blp: Blueprint, *statuses: int) -> Callable:
    """Document the problem+json responses an endpoint can answer with."""

    def decorator(func: Callable) -> Callable:
        for status in statuses:
            func = blp.alt_response(
                status,
                schema=ProblemSchema,
                description=ERROR_DESCRIPTIONS.get(status, "Error"),
                content_type=PROBLEM_CONTENT_TYPE,
            )(func)
        return func

    return decorator


def media_schema(content_type: str) -> dict[str, Any]:
    """The schema of a body of this media type that no marshmallow schema describes: a JSON
    one (`application/...+json`) is an object, a text one a string, any other a file."""
    if content_type.endswith("+json"):
        return {"type": "object"}
    if content_type.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


def answers_also(blp: Blueprint, status: int, *content_types: str, vary_accept: bool = False) -> Callable:
    """Document more media types of one response than its schema's JSON (see `media_schema`).
    `vary_accept` documents `Vary: Accept` (the Accept header picks the representation)."""
    doc: dict[str, Any] = {
        "content": {content_type: {"schema": media_schema(content_type)} for content_type in content_types}
    }
    if vary_accept:
        doc["headers"] = {"Vary": {"$ref": "#/components/headers/VARY"}}
    return blp.doc(responses={status: doc})


def answers_file(blp: Blueprint, content_type: str, description: str, schema: dict | None = None) -> Callable:
    """Document an operation whose 200 is one body of `content_type` (a file, text or GeoJSON)."""
    content = {content_type: {"schema": schema or media_schema(content_type)}}
    return blp.doc(responses={200: {"description": description, "content": content}})


def requires_login(blp: Blueprint, *roles: str, errors: tuple[int, ...] = ()) -> Callable:
    """Guard an endpoint: a valid access token, and one of `roles` when given (403 otherwise)."""

    def decorator(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args, **kwargs):
            user = current_app.extensions["field_ops.authenticate"]()
            if roles and user.role not in roles:
                raise Forbidden("Your role may not do this.")
            return func(*args, **kwargs)

        wrapper = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        statuses = (401, 403, *errors) if roles else (401, *errors)
        return documents_errors(blp, *statuses)(wrapper)

    return decorator
