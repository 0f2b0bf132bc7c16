"""Failed-login throttling (Flask-Limiter). Counters live in `RATELIMIT_STORAGE_URI`: memory on a
laptop, Redis in production so every worker on every host shares them."""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from field_ops.core.errors import ProblemError

log = logging.getLogger(__name__)

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def login_email_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"login-email:{str(email).strip().lower() if email else '-'}"


def login_ip_key() -> str:
    return f"login-ip:{get_remote_address()}"


class TooManyAttempts(ProblemError):
    status, code, title = 429, "too_many_attempts", "Too many attempts"


def claim_login_attempt() -> list[tuple[RateLimitItem, str]]:
    """Count this sign-in against the per-email and per-address limits before the password is
    checked: one atomic increment per limit, so a burst of concurrent guesses cannot all pass a
    check made before any of them is counted. Raises TooManyAttempts (429 with Retry-After).

    Returns the claims; give them back with `release_login_attempt` when the sign-in succeeds,
    so only failures use up the allowance.
    """
    if not limiter.enabled:
        return []
    config = current_app.config
    claimed: list[tuple[RateLimitItem, str]] = []
    prefix = config.get("RATELIMIT_KEY_PREFIX", "")
    for setting, key in (("LOGIN_FAILURES_PER_EMAIL", login_email_key()), ("LOGIN_FAILURES_PER_IP", login_ip_key())):
        key = f"{prefix}{key}"
        for item in parse_many(config[setting]):
            claimed.append((item, key))
            if not limiter.limiter.hit(item, key):
                reset_at = limiter.limiter.get_window_stats(item, key).reset_time
                raise TooManyAttempts(
                    "Too many failed attempts: wait before trying again.",
                    headers={"Retry-After": str(max(1, int(reset_at - time.time())))},
                )
    return claimed


def release_login_attempt(claimed: list[tuple[RateLimitItem, str]]) -> None:
    """Give back the attempts counted by `claim_login_attempt` (the sign-in succeeded)."""
    for item, key in claimed:
        limiter.storage.incr(item.key_for(key), item.get_expiry(), amount=-1)


def retry_after_seconds() -> int:
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://") and _several_workers_possible():
        log.warning(
            "RATELIMIT_STORAGE_URI is memory://: each worker process counts failed sign-ins on its own, "
            "so the limits are multiplied by the number of workers; use redis://host:6379/0"
        )


def _several_workers_possible() -> bool:
    """True under a multi-process server (gunicorn, uwsgi) or when WEB_CONCURRENCY asks for several."""
    import sys

    if int(os.environ.get("WEB_CONCURRENCY", "1") or 1) > 1:
        return True
    return any(name in sys.modules for name in ("gunicorn", "uwsgi"))
