"""Schemathesis hooks for tests/test_api_contract.py: sign in as the user the test made, and
sign out only a login of its own (so `POST /auth/logout` does not end the run's login)."""

from __future__ import annotations

import os

import requests
import schemathesis


def _log_in(base_url: str) -> str:
    response = requests.post(
        f"{base_url}/api/v1/auth/token",
        json={"email": os.environ["FIELD_OPS_CHECK_EMAIL"], "password": os.environ["FIELD_OPS_CHECK_PASSWORD"]},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


@schemathesis.auth()
class FieldOpsLogin:
    def get(self, case, ctx):
        return _log_in(os.environ["FIELD_OPS_CHECK_URL"])

    def set(self, case, data, ctx):
        if case.operation.path == "/api/v1/auth/logout":
            data = _log_in(os.environ["FIELD_OPS_CHECK_URL"])
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
