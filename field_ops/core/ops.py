"""Liveness and readiness probes for the load balancer."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from field_ops.core.api import documents_errors
from field_ops.core.db import get_engine
from field_ops.core.errors import ProblemError

blp = Blueprint("ops", __name__, description="Health probes")


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


class DatabaseUnavailable(ProblemError):
    status, code, title = 503, "database_unavailable", "Database unavailable"


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The process is up"""
    return {"status": "ok"}


@blp.route("/readyz")
@documents_errors(blp, 503)
@blp.response(200, HealthSchema)
def readyz():
    """The database is reachable (503 when it is not)"""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable("The database cannot be reached.") from exc
    return {"status": "ok"}
