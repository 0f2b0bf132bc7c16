"""Figures for the service under attack and under load, measured through HTTP on PostgreSQL:
20 concurrent PATCHes with one If-Match per endpoint, 20 concurrent wrong passwords for one
email, login timing for known vs unknown emails, and time to 503 with a paused database.

    .venv/bin/python -m benchmarks.trust_under_load

Uses TEST_DATABASE_URL (default: the local server, trust auth) and runs the tests that assert
these figures, printing what they measured.
"""

from __future__ import annotations

import os
import sys

import pytest

TESTS = [
    "tests/test_concurrent_writers.py::test_twenty_editors_holding_one_etag_leave_exactly_one_change",
    "tests/test_auth.py::test_twenty_wrong_passwords_at_once_for_one_email_get_at_most_five_tries",
    "tests/test_auth.py::test_an_unknown_email_answers_as_fast_as_a_wrong_password",
    "tests/test_silent_database.py",
]


def main() -> int:
    os.environ.setdefault("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    return pytest.main(["-s", "-p", "no:warnings", *TESTS])


if __name__ == "__main__":
    sys.exit(main())
