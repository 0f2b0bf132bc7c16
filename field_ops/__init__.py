"""Field Ops: collections field work for buy-here-pay-here dealerships."""

from __future__ import annotations

import gc
import os
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from field_ops.core import db, errors, limits
from field_ops.core.api import FieldOpsApi
from field_ops.core.config import load_config, resolve_secret_key
from field_ops.core.json_responses import OrjsonProvider

API_VERSION = "1.0.0"
_startup_frozen = False


class NoCookieSessions(SessionInterface):
    """Requests carry bearer tokens, never a session cookie: no Flask session to read or write."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


class FieldOpsFlask(Flask):
    json_provider_class = OrjsonProvider
    session_interface = NoCookieSessions()

    def dispatch_request(self):
        """Run the view, then commit its transaction: one place owns the commit.

        A failure to commit raises here, inside Flask's error handling, so it becomes a
        problem+json response like any other error (and the error handlers roll back).
        """
        response = super().dispatch_request()
        db.commit_request_session()
        return response


class IdConverter(IntegerConverter):
    """`<int:...>` in paths, bounded to the database's integer ids: a larger one is simply not found."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config_overrides: dict[str, Any] | None = None) -> Flask:
    app = FieldOpsFlask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter
    app.config.update(load_config(app.instance_path, config_overrides))
    app.config.update(
        API_TITLE="Field Ops API",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
    )
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])  # type: ignore[method-assign]
    app.config["SECRET_KEY"] = resolve_secret_key(app.config)

    db.init_app(app)
    limits.init_app(app)
    api = FieldOpsApi(
        app,
        spec_kwargs={
            "info": {"description": "Personal-visit scheduling, routes, outcomes and the daily schedule."},
            "servers": [{"url": "/", "description": "This server (every path starts at the root)"}],
        },
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    _register_blueprints(api)
    errors.init_app(app)
    _connect_domains(app)

    from field_ops.jobs import scheduler

    scheduler.init_app(app)
    # What is loaded by now (modules, the API's schemas, the spec) lives as long as the process:
    # keeping it out of the garbage collector's scans spares requests ~100 ms pauses. Once per
    # process: later apps (tests, tools) would freeze their predecessors' garbage.
    global _startup_frozen
    if not _startup_frozen:
        gc.freeze()
        _startup_frozen = True
    return app


def _connect_domains(app: Flask) -> None:
    """Wire what core and the lower domains cannot import: the authenticator `requires_login`
    calls, the receivers of the signals lower domains send, and each domain's commands."""
    from field_ops.auth import access
    from field_ops.auth import service as auth_service  # noqa: F401 - its receivers connect on import
    from field_ops.core.cli import register_cli
    from field_ops.jobs import cli as jobs_cli
    from field_ops.users import cli as users_cli
    from field_ops.visits import receivers  # noqa: F401 - connects on import
    from seeds import cli as seeds_cli

    access.init_app(app)
    register_cli(app, *users_cli.COMMANDS, *jobs_cli.COMMANDS, *seeds_cli.COMMANDS)


def _register_blueprints(api: FieldOpsApi) -> None:
    from field_ops.accounts.routes import blp as accounts_blp
    from field_ops.audit.routes import blp as audit_blp
    from field_ops.auth.routes import blp as auth_blp
    from field_ops.campaigns.routes import blp as campaigns_blp
    from field_ops.collections.routes import blp as collections_blp
    from field_ops.contacts.routes import blp as contacts_blp
    from field_ops.core.ops import blp as ops_blp
    from field_ops.dealerships.routes import blp as dealerships_blp
    from field_ops.follow_ups.routes import blp as follow_ups_blp
    from field_ops.jobs.routes import blp as jobs_blp
    from field_ops.lot_issues.routes import blp as lot_issues_blp
    from field_ops.payments.routes import blp as payments_blp
    from field_ops.routing.routes import blp as routing_blp
    from field_ops.schedules.routes import blp as schedules_blp
    from field_ops.sync.routes import blp as sync_blp
    from field_ops.users.routes import blp as users_blp
    from field_ops.visits.routes import blp as visits_blp

    for blueprint in (
        ops_blp,
        auth_blp,
        users_blp,
        dealerships_blp,
        accounts_blp,
        visits_blp,
        routing_blp,
        schedules_blp,
        lot_issues_blp,
        sync_blp,
        contacts_blp,
        collections_blp,
        campaigns_blp,
        audit_blp,
        follow_ups_blp,
        payments_blp,
        jobs_blp,
    ):
        api.register_blueprint(blueprint)
