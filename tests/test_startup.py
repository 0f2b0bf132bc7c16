"""What the service insists on before it starts."""

from __future__ import annotations

import logging

import pytest

from field_ops import create_app
from field_ops.core.config import MissingSecretKey


def test_the_service_refuses_to_start_without_a_secret_key(database_url):
    with pytest.raises(MissingSecretKey):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": ""})


def test_the_local_demo_keeps_a_random_key_of_its_own_in_the_instance_folder(database_url, tmp_path):
    settings = {"DATABASE_URL": database_url, "SECRET_KEY": "", "DEMO": True}
    key_file = tmp_path / "secret_key"
    first = create_app({**settings, "DEMO_SECRET_KEY_FILE": str(key_file)})
    again = create_app({**settings, "DEMO_SECRET_KEY_FILE": str(key_file)})
    assert len(first.config["SECRET_KEY"]) >= 40
    assert first.config["SECRET_KEY"] == again.config["SECRET_KEY"] == key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o077 == 0
    other = create_app({**settings, "DEMO_SECRET_KEY_FILE": str(tmp_path / "elsewhere")})
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_a_warning_says_memory_counters_are_per_worker_when_several_workers_may_run(database_url, monkeypatch, caplog):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with caplog.at_level(logging.WARNING, logger="field_ops.core.limits"):
        create_app({"DATABASE_URL": database_url, "TESTING": True, "RATELIMIT_STORAGE_URI": "memory://"})
    assert "each worker process counts failed sign-ins on its own" in caplog.text
