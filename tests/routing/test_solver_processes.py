"""The route solver's worker processes live and die with the service that started them."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SERVICE = """
import json, multiprocessing.forkserver, sys, time
from field_ops.routing import solver
if __name__ == "__main__":
    solver.install_signal_handlers()
    solver.warm_up(wait=True)
    pids = list(solver._pool._processes) + [multiprocessing.forkserver._forkserver._forkserver_pid]
    print(json.dumps(pids), flush=True)
    time.sleep(120)
"""


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"  # left for init to reap
    except FileNotFoundError:
        return True


def start_service(tmp_path):
    script = tmp_path / "service.py"
    script.write_text(SERVICE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    service = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    pids = json.loads(service.stdout.readline())
    assert len(pids) == 3 and not any(gone(pid) for pid in pids)
    return service, pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.parametrize(
    ("stop", "exit_code"),
    [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGKILL, -signal.SIGKILL)],
    ids=["sigterm-shuts-the-pool", "sigkill-workers-notice"],
)
def test_stopping_the_service_stops_the_fork_server_and_its_workers(tmp_path, stop, exit_code):
    service, pids = start_service(tmp_path)
    service.send_signal(stop)
    assert service.wait(timeout=30) == exit_code
    deadline = time.monotonic() + 15
    while not all(gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in pids if not gone(pid)] == []


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX priorities")
def test_solves_run_at_a_lower_cpu_priority_than_the_service(tmp_path):
    service, pids = start_service(tmp_path)
    try:
        service_priority = os.getpriority(os.PRIO_PROCESS, service.pid)
        deadline = time.monotonic() + 10  # a worker may still be running its start-up
        while True:
            lowered = [os.getpriority(os.PRIO_PROCESS, pid) > service_priority for pid in pids[:2]]
            if all(lowered) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert all(lowered)
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=20)


def test_two_plans_at_once_in_one_process_each_get_their_own_solver_processes():
    """A threaded server plans two lots at once: the second plan's solves start now, not after
    the first plan's budget (when it would have almost no time left)."""
    import threading

    from field_ops.routing import solver

    size = 8
    minutes = [[0 if a == b else 300 for b in range(size)] for a in range(size)]
    problem = solver.Problem(
        num_locations=size,
        depots=[solver.Site(location=0)],
        jobs=[
            solver.Job(location=i, service_duration=600, tw_early=0, tw_late=8 * 3600, required=True)
            for i in range(1, size)
        ],
        vehicles=[solver.Vehicle(start_depot=0, end_depot=0, tw_early=0, tw_late=8 * 3600, num_available=2)],
        distance_matrices=[minutes],
        duration_matrices=[minutes],
    )
    solver.warm_up(wait=True)
    deadline = time.time() + 1.0
    finished: list[float] = []

    def plan() -> None:
        plans = solver.solve_side_by_side([problem, problem], deadline=deadline, seeds=[1, 2])
        assert all(p is not None and not p.unplanned_jobs for p in plans)
        finished.append(time.time())

    threads = [threading.Thread(target=plan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(finished) == 2
    assert max(finished) < deadline + 0.5
    assert len(solver._pool._processes) >= 4
