"""The one place that talks to PyVRP (pinned: 0.14 changes its API between minor versions).

The planner describes a prize-collecting VRP with time windows in plain integers (metres,
seconds) and gets back ordered stops with service start times. Nothing else imports pyvrp.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np
import pyvrp
from pyvrp import IteratedLocalSearchParams, SolveParams
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import NeighbourhoodParams, PerturbationParams
from pyvrp.stop import MaxRuntime

UNBOUNDED = np.iinfo(np.int64).max
# PyVRP's iterated local search keeps a candidate that beats the solution it had this many
# iterations back (late acceptance). Its default, 300, suits minutes of search; in the seconds a
# plan gets, a shorter memory converges sooner. Measured on Solomon: at 1 s, 300 -> 50 took the
# mean gap from 0.85 % to 0.53 %; at 5 s, 50 was worse than 300 (0.32 % vs 0.23 %). So the
# memory grows with the budget: 50 per second, at most PyVRP's default. Likewise a short search
# looks at each client's 30 nearest neighbours rather than 50 (Solomon at 1 s: 0.53 % -> 0.47 %;
# the 120-visit lot-day's km ratio to a 30 s solve: 1.021 -> 1.008).
SEARCH_HISTORY_PER_SECOND = 50
SEARCH_HISTORY_MIN, SEARCH_HISTORY_MAX = 50, 300
SHORT_SEARCH_SECONDS, SHORT_SEARCH_NEIGHBOURS = 5.0, 30
# A prize-collecting model (some visits optional) does better with smaller kicks: at most 10
# perturbations per iteration rather than 25. Measured on the 150-visit overfull lot-day, 12 seeds
# at 1.5 s: visits served median 110 -> 112, prize by priority up by one normal visit's worth.
# On Solomon (every client required) it was worse (mean gap 0.53 % -> 1.15 %), so only there.
PRIZE_COLLECTING_MAX_PERTURBATIONS = 10
# A solve that starts late (a cold worker) still gets this long: small days need only milliseconds.
MIN_SOLVE_SECONDS = 0.05
# A solve with a fallback model gives up on its own model when it has no feasible solution after
# this share of its time. The 120-visit lot-day that fits finds one after 0.015-0.16 s of a 1.5 s
# solve (six seeds); a day that cannot hold every visit never does.
PROBE_SHARE = 0.25


@dataclass(frozen=True)
class Site:
    """A place on the matrices: a depot (lot, or where a rep resumes) or a client."""

    location: int
    tw_early: int = 0
    tw_late: int = UNBOUNDED


@dataclass(frozen=True)
class Job:
    location: int
    service_duration: int
    tw_early: int
    tw_late: int
    prize: int = 0
    required: bool = False
    demand: int = 0


@dataclass(frozen=True)
class Vehicle:
    start_depot: int
    end_depot: int
    tw_early: int = 0
    tw_late: int = UNBOUNDED
    num_available: int = 1
    capacity: int = 0
    profile: int = 0


@dataclass(frozen=True)
class Problem:
    """Locations are indexed 0..n-1 on every matrix; depots, jobs and vehicles refer to them."""

    num_locations: int
    depots: list[Site]
    jobs: list[Job]
    vehicles: list[Vehicle]
    distance_matrices: list[np.ndarray]
    duration_matrices: list[np.ndarray]


@dataclass(frozen=True)
class Stop:
    job: int
    service_start: int


@dataclass(frozen=True)
class PlannedRoute:
    vehicle: int
    stops: list[Stop]
    distance: int
    duration: int
    start_time: int
    end_time: int


@dataclass
class Plan:
    routes: list[PlannedRoute] = field(default_factory=list)
    unplanned_jobs: list[int] = field(default_factory=list)
    distance: int = 0
    feasible: bool = True


def _problem_data(problem: Problem) -> pyvrp.ProblemData:
    uses_capacity = any(job.demand for job in problem.jobs)
    locations = [pyvrp.Location(x=0, y=0) for _ in range(problem.num_locations)]
    depots = [pyvrp.Depot(location=d.location, tw_early=d.tw_early, tw_late=d.tw_late) for d in problem.depots]
    clients = [
        pyvrp.Client(
            location=job.location,
            delivery=[job.demand] if uses_capacity else [],
            service_duration=job.service_duration,
            tw_early=job.tw_early,
            tw_late=job.tw_late,
            prize=job.prize,
            required=job.required,
        )
        for job in problem.jobs
    ]
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=v.num_available,
            capacity=[v.capacity] if uses_capacity else [],
            start_depot=v.start_depot,
            end_depot=v.end_depot,
            tw_early=v.tw_early,
            tw_late=v.tw_late,
            profile=v.profile,
        )
        for v in problem.vehicles
    ]
    return pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=[np.asarray(m, dtype=np.int64) for m in problem.distance_matrices],
        duration_matrices=[np.asarray(m, dtype=np.int64) for m in problem.duration_matrices],
    )


def _search_params(time_limit_s: float, *, prize_collecting: bool = False) -> SolveParams:
    history = int(min(SEARCH_HISTORY_MAX, max(SEARCH_HISTORY_MIN, SEARCH_HISTORY_PER_SECOND * time_limit_s)))
    neighbourhood = NeighbourhoodParams()
    if time_limit_s < SHORT_SEARCH_SECONDS:
        neighbourhood = NeighbourhoodParams(num_neighbours=SHORT_SEARCH_NEIGHBOURS)
    perturbation = PerturbationParams()
    if prize_collecting:
        perturbation = PerturbationParams(max_perturbations=PRIZE_COLLECTING_MAX_PERTURBATIONS)
    return SolveParams(
        ils=IteratedLocalSearchParams(history_length=history), neighbourhood=neighbourhood, perturbation=perturbation
    )


class _GiveUpWhenInfeasible:
    """PyVRP stopping criterion: the time limit, or sooner, once `probe_s` have passed with no
    feasible solution found (PyVRP reports an infeasible best as the largest cost)."""

    def __init__(self, time_limit_s: float, probe_s: float) -> None:
        self.started = time.perf_counter()
        self.time_limit_s, self.probe_s = time_limit_s, probe_s
        self.gave_up = False

    def __call__(self, best_cost: float) -> bool:
        elapsed = time.perf_counter() - self.started
        if best_cost >= UNBOUNDED and elapsed >= self.probe_s:
            self.gave_up = True
        return self.gave_up or elapsed >= self.time_limit_s


def solve(
    problem: Problem,
    *,
    time_limit_s: float | None = None,
    deadline: float | None = None,
    seed: int = 42,
    fallback: Problem | None = None,
) -> Plan:
    """Solve with a fixed seed and time budget, so the same input gives the same plan.

    `deadline` (seconds since the epoch, `time.time()`) instead of `time_limit_s` makes the
    budget absolute, so time spent reaching a worker process is not added to it. With a
    `fallback` (the same jobs, a model that always has a feasible answer), a `problem` that shows
    no feasible solution within `PROBE_SHARE` of the time gives the rest to the fallback.
    """
    if deadline is not None:
        time_limit_s = max(deadline - time.time(), MIN_SOLVE_SECONDS)
    if time_limit_s is None:
        raise ValueError("give time_limit_s or deadline")
    if not problem.jobs or not problem.vehicles:
        return Plan(unplanned_jobs=list(range(len(problem.jobs))))
    if fallback is None:
        return _plan(_search(problem, MaxRuntime(time_limit_s), time_limit_s, seed), len(problem.jobs))
    probe = _GiveUpWhenInfeasible(time_limit_s, PROBE_SHARE * time_limit_s)
    solution = _search(problem, probe, time_limit_s, seed)
    if not probe.gave_up:
        return _plan(solution, len(problem.jobs))
    rest = max(time_limit_s - (time.perf_counter() - probe.started), MIN_SOLVE_SECONDS)
    return _plan(_search(fallback, MaxRuntime(rest), rest, seed), len(fallback.jobs))


def _search(problem: Problem, stop, time_limit_s: float, seed: int) -> pyvrp.Solution:
    with warnings.catch_warnings():
        # An infeasible day is an expected answer here (the caller then drops visits by prize).
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp.solve(
            _problem_data(problem),
            stop=stop,
            seed=seed,
            collect_stats=False,
            display=False,
            params=_search_params(time_limit_s, prize_collecting=not all(job.required for job in problem.jobs)),
        )
    return result.best


def _plan(solution: pyvrp.Solution, num_jobs: int) -> Plan:
    routes = []
    planned: set[int] = set()
    for route in solution.routes():
        stops = [
            Stop(job=activity.idx, service_start=int(activity.start_time))
            for activity in route.schedule()
            if activity.type == pyvrp.ActivityType.CLIENT
        ]
        planned.update(stop.job for stop in stops)
        routes.append(
            PlannedRoute(
                vehicle=int(route.vehicle_type()),
                stops=stops,
                distance=int(route.distance()),
                duration=int(route.duration()),
                start_time=int(route.start_time()),
                end_time=int(route.end_time()),
            )
        )
    return Plan(
        routes=routes,
        unplanned_jobs=[i for i in range(num_jobs) if i not in planned],
        distance=int(solution.distance()),
        feasible=bool(solution.is_feasible()),
    )


# PyVRP runs on one core; side-by-side solves use worker processes. The pool starts from a
# fork server, so a worker never inherits a request's database connections, and the calling
# thread only waits (other requests of its process keep running). A worker's first start
# imports the application (about a second), so until the pool has answered once, solves run
# in the calling process instead (see `solve_side_by_side`).
_pool: ProcessPoolExecutor | None = None
_pool_warm = threading.Event()
_pool_lock = threading.Lock()
WORKERS = 2  # started with the service: one plan's two side-by-side solves
# Plans of several lots at once in one process (threaded server workers) each get their own
# solver processes, started on demand, rather than queueing behind one another's budget.
MAX_WORKERS = 8


# How often a worker checks that the process that started it is still there.
PARENT_CHECK_SECONDS = 1.0
# Solves run at a lower CPU priority than the web workers: a busy office planning lots takes
# what the requests leave, and a rep's request never waits behind a solve.
SOLVER_NICENESS = 10


def _ready() -> bool:
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone too
    except (OSError, IndexError):
        return True


def _start_worker(parent_pid: int) -> None:
    """In each worker: yield the CPU to requests, and exit when the process that owns the pool is
    gone, however it ended (a SIGKILL runs no clean-up), so no worker, and then no fork server,
    outlives the service."""
    os.nice(SOLVER_NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent shuts the pool

    def watch() -> None:
        while _alive(parent_pid):
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def shutdown() -> None:
    """Stop the worker processes (at exit, a SIGTERM included once `install_signal_handlers` ran)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
        _pool_warm.clear()
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=2)


def install_signal_handlers() -> None:
    """For a server that leaves SIGTERM at its default (`flask run`): exit through the normal
    shutdown, so the workers stop with it. Servers with their own handler (gunicorn) keep it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum, frame) -> None:  # noqa: ARG001 - the signal handler's signature
    raise SystemExit(128 + signum)  # the exit handlers run, `shutdown` among them


atexit.register(shutdown)


def warm_up(*, wait: bool = False) -> None:
    """Start the worker processes in the background if they are not running; `wait` until they answer."""
    global _pool
    with _pool_lock:
        if _pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _pool = ProcessPoolExecutor(
                max_workers=MAX_WORKERS, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
            )
            # Not a daemon: a process that exits while its workers start waits for them, rather
            # than leaving the fork server a half-started worker.
            threading.Thread(target=_start_workers, args=(_pool,), daemon=False).start()
    if wait:
        _pool_warm.wait(timeout=60)


def _start_workers(pool: ProcessPoolExecutor) -> None:
    try:
        for future in [pool.submit(_ready) for _ in range(WORKERS)]:
            future.result()
    except Exception:  # noqa: BLE001 - a pool that cannot start leaves solves in-process
        return
    _pool_warm.set()


def _reset_pool() -> None:
    global _pool
    with _pool_lock:
        _pool, _ = None, _pool_warm.clear()


def solve_side_by_side(
    problems: list[Problem], *, deadline: float, seeds: list[int], fallbacks: list[Problem | None] | None = None
) -> list[Plan | None]:
    """Solve each problem (with its seed, and its fallback: see `solve`) in its own worker
    process, all finishing by `deadline`; plans in order.

    While the workers are still starting, only the last problem is solved, here, with the whole
    remaining budget (its plan is the last; the others are None): a cold start never costs time.
    """
    fallbacks = fallbacks or [None] * len(problems)
    warm_up()
    if _pool_warm.is_set():
        try:
            futures = [
                _pool.submit(solve, problem, deadline=deadline, seed=seed, fallback=fallback)
                for problem, seed, fallback in zip(problems, seeds, fallbacks, strict=True)
            ]
            return [future.result() for future in futures]
        except (BrokenProcessPool, AttributeError):
            _reset_pool()  # a worker died (killed, out of memory): solve here this once
    last = solve(problems[-1], deadline=deadline, seed=seeds[-1], fallback=fallbacks[-1])
    return [None] * (len(problems) - 1) + [last]


def cannot_serve_every_job(problem: Problem) -> bool:
    """True when no plan can serve every job: the service time plus the shortest possible drive to
    each job exceeds all the vehicles' working time together. A quick bound, no solve: False
    does not promise the day fits."""
    if len(problem.duration_matrices) != 1 or not problem.jobs:
        return False
    if any(vehicle.tw_late == UNBOUNDED for vehicle in problem.vehicles):
        return False  # a vehicle without an end of shift: no bound
    durations = np.asarray(problem.duration_matrices[0], dtype=np.float64).copy()
    np.fill_diagonal(durations, np.inf)
    locations = [job.location for job in problem.jobs]
    shortest_drive = durations[:, locations].min(axis=0)
    needed = sum(job.service_duration for job in problem.jobs) + float(shortest_drive.sum())
    available = sum((vehicle.tw_late - vehicle.tw_early) * vehicle.num_available for vehicle in problem.vehicles)
    return needed > available
