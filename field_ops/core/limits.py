"""Failed-login throttling with `limits`. Counters live in `RATELIMIT_STORAGE_URI`: memory on a
laptop, Redis in production so every worker on every host shares them.

Only the sign-in is limited, so nothing here runs on any other request.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from field_ops.core.errors import ProblemError

log = logging.getLogger(__name__)


class TooManyAttempts(ProblemError):
    status, code, title = 429, "too_many_attempts", "Too many attempts"


class LoginThrottle:
    """The counters of failed sign-ins, per email and per client address (fixed windows)."""

    def __init__(self, storage_uri: str, key_prefix: str = "", enabled: bool = True) -> None:
        self.storage: Storage = storage_from_string(storage_uri)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.key_prefix = key_prefix
        self.enabled = enabled

    def reset(self) -> None:
        self.storage.reset()


def login_throttle() -> LoginThrottle:
    return current_app.extensions["login_throttle"]


def client_address() -> str:
    return request.remote_addr or "127.0.0.1"


def login_email_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"login-email:{str(email).strip().lower() if email else '-'}"


def login_ip_key() -> str:
    return f"login-ip:{client_address()}"


def claim_login_attempt() -> list[tuple[RateLimitItem, str]]:
    """Count this sign-in against the per-email and per-address limits before the password is
    checked: one atomic increment per limit, so a burst of concurrent guesses cannot all pass a
    check made before any of them is counted. Raises TooManyAttempts (429 with Retry-After).

    Returns the claims; give them back with `release_login_attempt` when the sign-in succeeds,
    so only failures use up the allowance.
    """
    throttle = login_throttle()
    if not throttle.enabled:
        return []
    config = current_app.config
    claimed: list[tuple[RateLimitItem, str]] = []
    for setting, key in (("LOGIN_FAILURES_PER_EMAIL", login_email_key()), ("LOGIN_FAILURES_PER_IP", login_ip_key())):
        key = f"{throttle.key_prefix}{key}"
        for item in parse_many(config[setting]):
            claimed.append((item, key))
            if not throttle.limiter.hit(item, key):
                reset_at = throttle.limiter.get_window_stats(item, key).reset_time
                raise TooManyAttempts(
                    "Too many failed attempts: wait before trying again.",
                    headers={"Retry-After": str(max(1, int(reset_at - time.time())))},
                )
    return claimed


def release_login_attempt(claimed: list[tuple[RateLimitItem, str]]) -> None:
    """Give back the attempts counted by `claim_login_attempt` (the sign-in succeeded)."""
    storage = login_throttle().storage
    for item, key in claimed:
        storage.incr(item.key_for(key), item.get_expiry(), amount=-1)


def init_app(app: Flask) -> None:
    config = app.config
    storage_uri = config["RATELIMIT_STORAGE_URI"]
    app.extensions["login_throttle"] = LoginThrottle(
        storage_uri, config.get("RATELIMIT_KEY_PREFIX", ""), bool(config.get("RATELIMIT_ENABLED", True))
    )
    if storage_uri.startswith("memory://") and _several_workers_possible():
        log.warning(
            "RATELIMIT_STORAGE_URI is memory://: each worker process counts failed sign-ins on its own, "
            "so the limits are multiplied by the number of workers; use redis://host:6379/0"
        )


def _several_workers_possible() -> bool:
    """True under a multi-process server (gunicorn, uwsgi) or when WEB_CONCURRENCY asks for several."""
    if int(os.environ.get("WEB_CONCURRENCY", "1") or 1) > 1:
        return True
    return any(name in sys.modules for name in ("gunicorn", "uwsgi"))
