"""A PostgreSQL that stops answering (SIGSTOP: connections stay open, nothing comes back) must
not hang the service: /readyz and ordinary requests answer 503 problem+json in bounded time.

The test starts a private cluster from the machine's PostgreSQL binaries under a temporary
folder, on its own port, and pauses it; where none can be started it is skipped."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from field_ops import create_app
from field_ops.core import migrations
from field_ops.core.db import get_engine, transaction
from field_ops.users.service import create_user

# Threads, other connections or jobs with their own transactions: data must really commit.
pytestmark = pytest.mark.real_commits

PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as_owner(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start a private PostgreSQL")
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def _cluster_pids(postmaster: int) -> list[int]:
    children = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            children.append(int(Path(stat).parent.name))
    return [postmaster, *children]


def _signal_cluster(postmaster: int, sig: signal.Signals) -> None:
    for pid in _cluster_pids(postmaster):
        with contextlib.suppress(ProcessLookupError):  # a backend that ended since the listing
            os.kill(pid, sig)


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, Path]]:
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("PostgreSQL behaviour: runs with TEST_DATABASE_URL set")
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins or not os.path.exists(os.path.join(bins[-1], "initdb")):
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin")
    bin_dir = bins[-1]
    folder = Path(tempfile.mkdtemp(prefix="field-ops-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    initdb = [f"{bin_dir}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [f"{bin_dir}/pg_ctl", "-D", str(data), "-l", str(folder / "log"), "-o", options]
    try:
        subprocess.run(_run_as_owner(initdb), check=True, capture_output=True, timeout=60)
        subprocess.run(_run_as_owner([*pg_ctl, "-w", "start"]), check=True, capture_output=True, timeout=60)
    except (subprocess.SubprocessError, OSError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"could not start a private PostgreSQL: {exc}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", data
    finally:
        postmaster = int((data / "postmaster.pid").read_text().split()[0])
        _signal_cluster(postmaster, signal.SIGCONT)
        subprocess.run(_run_as_owner([*pg_ctl, "-m", "immediate", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_paused_database_gets_503_problems_in_bounded_time_not_a_hung_worker(private_postgres):
    url, data = private_postgres
    app = create_app(
        {
            "DATABASE_URL": url,
            "TESTING": True,
            "PASSWORD_HASH_TIME_COST": 1,
            "PASSWORD_HASH_MEMORY_COST": 1024,
            "DATABASE_STATEMENT_TIMEOUT_SECONDS": 1,
            "DATABASE_CONNECT_TIMEOUT_SECONDS": 2,
            "DATABASE_POOL_TIMEOUT_SECONDS": 2,
            "READYZ_TIMEOUT_SECONDS": 1.5,
        }
    )
    with app.app_context():
        migrations.upgrade(get_engine())
        with transaction() as session:
            create_user(session, actor=None, email="a@example.com", name="A", role="admin", password=PASSWORD)
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"email": "a@example.com", "password": PASSWORD}).json
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    _signal_cluster(postmaster, signal.SIGSTOP)

    started = time.monotonic()
    ready = client.get("/readyz")
    readyz_s = time.monotonic() - started
    started = time.monotonic()
    me = client.get("/api/v1/me", headers=headers)
    request_s = time.monotonic() - started
    print(
        f"paused database: /readyz {ready.status_code} in {readyz_s:.2f} s, /me {me.status_code} in {request_s:.2f} s"
    )

    assert ready.status_code == 503 and ready.content_type == "application/problem+json"
    assert ready.json["code"] == "database_unavailable"
    assert readyz_s < 2
    assert me.status_code == 503 and me.content_type == "application/problem+json"
    assert request_s < 8

    _signal_cluster(postmaster, signal.SIGCONT)
    time.sleep(0.2)
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    with app.app_context():
        get_engine().dispose()
