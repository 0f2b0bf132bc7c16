"""Liveness and readiness probes for the load balancer."""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app
from marshmallow import Schema, fields
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from field_ops.core.api import Blueprint, documents_errors
from field_ops.core.db import get_engine, make_engine
from field_ops.core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
blp = Blueprint("ops", __name__, description="Health probes")


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


@blp.route("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The process is up"""
    return {"status": "ok"}


@blp.route("/readyz")
@documents_errors(blp, 503)
@blp.response(200, HealthSchema)
def readyz():
    """The database answers (503 when it does not, within READYZ_TIMEOUT_SECONDS)"""
    if not _database_answers(current_app._get_current_object(), current_app.config["READYZ_TIMEOUT_SECONDS"]):
        raise DatabaseUnavailable("The database cannot be reached or does not answer.")
    return {"status": "ok"}


_probe_lock = threading.Lock()


def _database_answers(app: Flask, timeout_s: float) -> bool:
    """Ask the database on a fresh connection in a helper thread and wait at most `timeout_s`.

    A stopped server can hold a connection attempt for the whole connect timeout: the probe
    answers in time anyway, and while an earlier probe still waits no second one is started.
    """
    if get_engine().dialect.name == "sqlite":  # a local file: nothing to wait for but a lock
        try:
            with get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            log.warning("readiness probe: database unavailable", exc_info=True)
            return False
    if not _probe_lock.acquire(blocking=False):
        return False
    answered = threading.Event()

    def probe() -> None:
        try:
            with _probe_engine(app).connect() as connection:
                connection.execute(text("SELECT 1"))
            answered.set()
        except SQLAlchemyError:
            log.warning("readiness probe: database unavailable", exc_info=True)
        finally:
            _probe_lock.release()

    threading.Thread(target=probe, name="readyz-probe", daemon=True).start()
    return answered.wait(timeout_s)


def _probe_engine(app: Flask) -> Engine:
    """No pool: each probe opens its own connection, so it never waits behind a stuck one."""
    engine = app.extensions.get("db_probe_engine")
    if engine is None:
        engine = app.extensions["db_probe_engine"] = make_engine(
            app.config["DATABASE_URL"], app.config, poolclass=NullPool
        )
    return engine
