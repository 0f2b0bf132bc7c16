"""Settings, each read from the environment with a documented default (see README)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_json(name: str, default: Any) -> Any:
    raw = os.environ.get(name)
    return json.loads(raw) if raw else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


# States whose law is stricter than the federal baseline. Keys per state: contact_hours_start,
# contact_hours_end, max_visits, window_days, citation; anything left out takes the baseline.
DEFAULT_STATE_CONTACT_RULES: dict[str, dict[str, Any]] = {
    "MA": {
        "max_visits": 1,
        "window_days": 30,
        "citation": "940 CMR 7.04(1) (Massachusetts creditor regulation: one home visit per 30 days per debt)",
    },
    "CA": {
        "citation": "Cal. Civ. Code 1788.17 (Rosenthal Act: FDCPA rules apply to a creditor's own collectors)",
    },
}

DEV_SECRET_KEY = "dev-only-secret-change-me-in-production-0123456789"


class MissingSecretKey(RuntimeError):
    """Raised at start-up: without SECRET_KEY anyone could sign access tokens."""


def resolve_secret_key(config: dict[str, Any]) -> str:
    """SECRET_KEY as configured; the tests' fixed key; or, for the local demo only, a random key
    generated once into the instance folder. Anything else refuses to start."""
    if config["SECRET_KEY"]:
        return config["SECRET_KEY"]
    if config["TESTING"]:
        return DEV_SECRET_KEY
    if config["DEMO"]:
        path = Path(config["DEMO_SECRET_KEY_FILE"])
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
    raise MissingSecretKey(
        "SECRET_KEY is not set: set it to a long random value (or run the local demo with FIELD_OPS_DEMO=1)."
    )


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the app configuration: defaults, then the environment, then explicit overrides."""
    sqlite_default = "sqlite:///" + str(Path(instance_path) / "field_ops.sqlite3")
    config: dict[str, Any] = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", sqlite_default),
        # PostgreSQL only: no request may hang on a silent database (see README).
        "DATABASE_STATEMENT_TIMEOUT_SECONDS": _env_float("DATABASE_STATEMENT_TIMEOUT_SECONDS", 20.0),
        "DATABASE_CONNECT_TIMEOUT_SECONDS": _env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 3),
        "DATABASE_PING_AFTER_IDLE_SECONDS": _env_float("DATABASE_PING_AFTER_IDLE_SECONDS", 2.0),
        "DATABASE_POOL_TIMEOUT_SECONDS": _env_float("DATABASE_POOL_TIMEOUT_SECONDS", 5.0),
        "DATABASE_KEEPALIVES_IDLE_SECONDS": _env_int("DATABASE_KEEPALIVES_IDLE_SECONDS", 30),
        "READYZ_TIMEOUT_SECONDS": _env_float("READYZ_TIMEOUT_SECONDS", 1.5),
        "SECRET_KEY": os.environ.get("SECRET_KEY", ""),
        # The local demo (`scripts/serve-demo`) may run without SECRET_KEY: a random key is kept here.
        "DEMO": _env_bool("FIELD_OPS_DEMO", False),
        "DEMO_SECRET_KEY_FILE": os.environ.get("DEMO_SECRET_KEY_FILE", str(Path(instance_path) / "secret_key")),
        "ACCESS_TOKEN_TTL_SECONDS": _env_int("ACCESS_TOKEN_TTL_SECONDS", 15 * 60),
        "REFRESH_TOKEN_TTL_SECONDS": _env_int("REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600),
        "LOGIN_FAILURES_PER_EMAIL": os.environ.get("LOGIN_FAILURES_PER_EMAIL", "5 per 15 minutes"),
        "LOGIN_FAILURES_PER_IP": os.environ.get("LOGIN_FAILURES_PER_IP", "20 per 15 minutes"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "PROXY_FIX_X_FOR": _env_int("PROXY_FIX_X_FOR", 0),
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 5 * 1024 * 1024),
        "PASSWORD_HASH_TIME_COST": _env_int("PASSWORD_HASH_TIME_COST", 3),
        "PASSWORD_HASH_MEMORY_COST": _env_int("PASSWORD_HASH_MEMORY_COST", 65536),
        "CONTACT_HOURS_START": os.environ.get("CONTACT_HOURS_START", "08:00"),
        "CONTACT_HOURS_END": os.environ.get("CONTACT_HOURS_END", "21:00"),
        "VISIT_FREQUENCY_LIMIT": _env_int("VISIT_FREQUENCY_LIMIT", 3),
        "VISIT_FREQUENCY_WINDOW_DAYS": _env_int("VISIT_FREQUENCY_WINDOW_DAYS", 7),
        "STATE_CONTACT_RULES": _env_json("STATE_CONTACT_RULES", DEFAULT_STATE_CONTACT_RULES),
        "CHECK_IN_RADIUS_M": _env_float("CHECK_IN_RADIUS_M", 300.0),
        "RECORDED_AT_MAX_FUTURE_SECONDS": _env_int("RECORDED_AT_MAX_FUTURE_SECONDS", 300),
        "DEFAULT_SHIFT_START": os.environ.get("DEFAULT_SHIFT_START", "08:00"),
        "DEFAULT_SHIFT_END": os.environ.get("DEFAULT_SHIFT_END", "18:00"),
        "ROUTING_TIME_LIMIT_SECONDS": _env_float("ROUTING_TIME_LIMIT_SECONDS", 2.0),
        "ROUTING_SEED": _env_int("ROUTING_SEED", 42),
        "AUTO_PLAN_AT": os.environ.get("AUTO_PLAN_AT", ""),
        "ROUTING_DETOUR_FACTOR": _env_float("ROUTING_DETOUR_FACTOR", 1.3),
        "ROUTING_SPEED_KMH": _env_float("ROUTING_SPEED_KMH", 40.0),
        "OSRM_URL": os.environ.get("OSRM_URL", ""),
        "OSRM_TIMEOUT_SECONDS": _env_float("OSRM_TIMEOUT_SECONDS", 5.0),
        "MAP_WAYPOINT_LIMIT": _env_int("MAP_WAYPOINT_LIMIT", 9),
        "IMPORT_MAX_BYTES": _env_int("IMPORT_MAX_BYTES", 2 * 1024 * 1024),
        "IMPORT_MAX_ROWS": _env_int("IMPORT_MAX_ROWS", 10_000),
        "GEOCODER": os.environ.get("GEOCODER", ""),
        "GEOCODER_URL": os.environ.get("GEOCODER_URL", ""),
        "GEOCODER_TIMEOUT_SECONDS": _env_float("GEOCODER_TIMEOUT_SECONDS", 3.0),
        "GEOCODER_USER_AGENT": os.environ.get("GEOCODER_USER_AGENT", "field-ops"),
        "IDEMPOTENCY_RETENTION_DAYS": _env_int("IDEMPOTENCY_RETENTION_DAYS", 30),
        "SCHEDULER_ENABLED": _env_bool("SCHEDULER_ENABLED", False),
        "SCHEDULER_INTERVAL_MINUTES": _env_int("SCHEDULER_INTERVAL_MINUTES", 15),
        "END_OF_DAY_CATCH_UP_DAYS": _env_int("END_OF_DAY_CATCH_UP_DAYS", 31),
        "CALENDAR_UID_DOMAIN": os.environ.get("CALENDAR_UID_DOMAIN", "field-ops.example"),
        "TESTING": _env_bool("TESTING", False),
    }
    config.update(overrides or {})
    return config
