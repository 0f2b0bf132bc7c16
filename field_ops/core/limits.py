"""Failed-login throttling (Flask-Limiter). Counters live in `RATELIMIT_STORAGE_URI`: memory on a
laptop, Redis in production so every worker on every host shares them."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def login_email_key() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"login-email:{str(email).strip().lower() if email else '-'}"


def login_ip_key() -> str:
    return f"login-ip:{get_remote_address()}"


def is_failed_login(response: Response) -> bool:
    return response.status_code == 401


def retry_after_seconds() -> int:
    import time

    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
