"""Route planning: a lot's day of visits grouped into reps' routes, every unplaced visit with
a reason a specialist can act on. PyVRP (behind `routing.solver`) does the full plans; new
visits booked during the day are fitted into existing routes by cheapest insertion, so the
stops already in them keep their order.

A plan runs in four steps around a `PlanningDay`: collect the day (a read snapshot), build the
matrix, place (the solver runs with no transaction open and no lock held), save (lock the
lot-day, check the day is unchanged, write over the routes, which keep their ids)."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time as timer
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, selectinload

from field_ops.accounts.models import Account
from field_ops.core.audit import record_audit
from field_ops.core.concurrency import lock_lot_day
from field_ops.core.db import mapped_columns, utcnow
from field_ops.core.errors import NotFound
from field_ops.dealerships.models import Dealership
from field_ops.dealerships.service import get_dealership, home_lot_today
from field_ops.routing import solver
from field_ops.routing.errors import PlanDateInPast, PlanInProgress, PlanStale
from field_ops.routing.links import directions_links
from field_ops.routing.matrix import travel_matrix
from field_ops.routing.models import Route, RoutePlan
from field_ops.users.models import Role, User, user_dealerships
from field_ops.users.scope import get_scoped, scoped
from field_ops.users.service import active_rep_of_lot, active_reps_of_lot
from field_ops.visits.errors import ContactRestricted
from field_ops.visits.models import Outcome, Visit, VisitKind, VisitStatus
from field_ops.visits.rules import check_contact_allowed, contact_hours_on, contact_policy

log = logging.getLogger(__name__)

# Prizes dwarf any day's driving (metres), so the solver serves every visit it can and only
# then minimises distance; an urgent visit outweighs any number of lower ones.
PRIZES = {"urgent": 10**10, "high": 10**8, "normal": 10**7, "low": 10**6}
UNREACHABLE = 10**9
DONE_STATUSES = (VisitStatus.CHECKED_IN, VisitStatus.COMPLETED)
FULL, INSERT = "full", "insert"


# Seconds kept back at least from the solver's budget for locking, checking and writing the plan.
WRITE_RESERVE_SECONDS = 0.2


class UnassignedReason(StrEnum):
    """Why a visit is left out of every route; each names what a specialist can do about it."""

    CONTACT_RESTRICTED = "contact_restricted"
    WINDOW_UNREACHABLE = "window_unreachable"
    OUTSIDE_SHIFT = "outside_shift"
    NO_REP_AVAILABLE = "no_rep_available"
    DID_NOT_FIT = "did_not_fit"
    MISSING_COORDINATES = "missing_coordinates"
    DEALERSHIP_APPOINTMENT = "dealership_appointment"


class ServiceWindow(NamedTuple):
    """When a visit may start, in seconds since the lot's local midnight, and how long it takes."""

    earliest: int
    latest: int
    duration: int


@dataclass
class RepDay:
    """A rep's working day: where and when they (re)start, when they must be back."""

    rep: User
    rep_id: int
    start: int
    end: int
    start_location: int = 0
    done: list[Visit] = field(default_factory=list)


@dataclass
class PlanOutcome:
    plan: RoutePlan
    routes: list[Route]


def _planning_reps(session: Session, dealership: Dealership, rep_ids: list[int] | None) -> list[User]:
    if rep_ids is None:
        return active_reps_of_lot(session, dealership.id)
    return [active_rep_of_lot(session, rep_id, dealership.id, field="rep_ids") for rep_id in dict.fromkeys(rep_ids)]


def _lock_plan(session: Session, dealership_id: int, day: date) -> RoutePlan:
    """The lot-day row, locked: a second planner waits here, then replaces the first's plan whole."""
    busy = PlanInProgress("Someone else is planning this lot-day; try again in a moment.")
    return lock_lot_day(session, RoutePlan, dealership_id, day, busy)


class _Clock:
    """Real seconds since the lot's local midnight of the planned day, and back.

    The base is kept in UTC: arithmetic on a zoned datetime is wall-clock arithmetic, which is
    an hour off on DST change days.
    """

    def __init__(self, day: date, zone: ZoneInfo) -> None:
        self.day, self.zone = day, zone
        self.base = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

    def seconds(self, moment: datetime) -> int:
        return int((moment - self.base).total_seconds())

    def moment(self, seconds: int) -> datetime:
        return self.base + timedelta(seconds=seconds)

    def wall(self, clock: str) -> int:
        """Seconds at a wall-clock time ("HH:MM") of the day in the lot's zone."""
        hours, minutes = clock.split(":")
        return self.seconds(datetime.combine(self.day, time(int(hours), int(minutes)), tzinfo=self.zone))


def _rep_days(reps: list[User], done: list[Visit], clock: _Clock, day_is_today: bool) -> list[RepDay]:
    config = current_app.config
    now = clock.seconds(utcnow())
    days = []
    for rep in reps:
        start = clock.wall(rep.shift_start or config["DEFAULT_SHIFT_START"])
        end = clock.wall(rep.shift_end or config["DEFAULT_SHIFT_END"])
        if day_is_today:
            start = max(start, now)
        rep_done = sorted((v for v in done if v.assigned_rep_id == rep.id), key=lambda v: (v.sequence or 0, v.id))
        for visit in rep_done:
            finished = (
                clock.seconds(visit.eta or visit.checked_in_at or visit.window_start) + visit.duration_minutes * 60
            )
            start = max(start, finished)
        if start >= end and not rep_done:
            continue  # the shift is over (or was saved backwards): no new stops for this rep today
        # A rep whose finished visits run past the shift keeps their route, with nothing added.
        days.append(RepDay(rep=rep, rep_id=rep.id, start=min(start, end), end=end, done=rep_done))
    return days


def _service_window(visit: Visit, clock: _Clock) -> ServiceWindow:
    """(earliest start, latest start, duration) in seconds: inside the visit's window, and late
    enough no more than lets the visit end by the close of contact hours in the customer's zone."""
    account = visit.account
    policy = contact_policy(account.state, current_app.config)
    _, closes = contact_hours_on(visit.window_start, account.timezone, policy)
    service = visit.duration_minutes * 60
    latest = min(clock.seconds(visit.window_end), clock.seconds(closes) - service)
    return ServiceWindow(max(clock.seconds(visit.window_start), 0), latest, service)


def _presolve_reason(
    visit: Visit, window: ServiceWindow, index: int, rep_days: list[RepDay], durations: np.ndarray
) -> UnassignedReason | None:
    """Why a visit cannot be placed whatever the rest of the day looks like, or None."""
    window_start, window_end, _ = window
    service = visit.duration_minutes * 60
    on_shift = [rd for rd in rep_days if window_end >= rd.start and window_start + service <= rd.end]
    if not on_shift:
        return UnassignedReason.OUTSIDE_SHIFT
    for rd in on_shift:
        arrival = rd.start + int(durations[rd.start_location, index])
        begin = max(arrival, window_start)
        if begin <= window_end and begin + service + int(durations[index, 0]) <= rd.end:
            return None
    return UnassignedReason.WINDOW_UNREACHABLE


def _simulate(
    sequence: list[int], rd: RepDay, windows: dict[int, ServiceWindow], durations: np.ndarray
) -> list[int] | None:
    """Earliest service starts along `sequence` (location indices), or None if a window or the shift breaks."""
    t, here, starts = rd.start, rd.start_location, []
    for location in sequence:
        window_start, window_end, service = windows[location]
        begin = max(t + int(durations[here, location]), window_start)
        if begin > window_end:
            return None
        starts.append(begin)
        t, here = begin + service, location
    if t + int(durations[here, 0]) > rd.end:
        return None
    return starts


def _cheapest_insertion(
    routes: dict[int, list[int]],
    candidates: list[tuple[int, int | None]],
    rep_days: dict[int, RepDay],
    windows: dict[int, ServiceWindow],
    distances: np.ndarray,
    durations: np.ndarray,
) -> set[int]:
    """Insert each candidate location where it adds the least distance; returns those placed."""
    placed = set()
    for location, only_rep in candidates:
        best: tuple[int, int, int] | None = None
        for rep_id, sequence in routes.items():
            if only_rep is not None and rep_id != only_rep:
                continue
            rd = rep_days[rep_id]
            path = [rd.start_location, *sequence, 0]
            for position in range(len(sequence) + 1):
                before, after = path[position], path[position + 1]
                added = int(distances[before, location] + distances[location, after] - distances[before, after])
                if best is not None and added >= best[0]:
                    continue
                trial = sequence[:position] + [location] + sequence[position:]
                if _simulate(trial, rd, windows, durations) is not None:
                    best = (added, rep_id, position)
        if best is not None:
            _, rep_id, position = best
            routes[rep_id].insert(position, location)
            placed.add(location)
    return placed


@dataclass
class PlanningDay:
    """A snapshot of one lot-day: who works, which visits, where and when; then the matrix.

    Built in a read transaction that ends before the solver runs; `fingerprint` is what the
    plan depends on, compared again under lock before the plan is written.
    """

    dealership: Dealership
    clock: _Clock
    keep_assignments: bool
    rep_days: list[RepDay]
    visits: list[Visit]
    candidates: list[Visit]
    unassigned: list[dict[str, Any]]
    fingerprint: tuple
    points: list[tuple[float, float]] = field(default_factory=list)
    location_of: dict[int, int] = field(default_factory=dict)
    windows: dict[int, ServiceWindow] = field(default_factory=dict)
    solvable: list[Visit] = field(default_factory=list)
    solvable_at: dict[int, int] = field(default_factory=dict)  # matrix location -> visit id
    distances: np.ndarray | None = None
    durations: np.ndarray | None = None
    matrix_source: str | None = None

    @property
    def rep_day_of(self) -> dict[int, RepDay]:
        return {rd.rep_id: rd for rd in self.rep_days}


@dataclass
class Placement:
    """Each rep's stops in order (matrix locations), and the visits left out for want of room."""

    sequences: dict[int, list[int]]
    dropped: list[int]  # visit ids


def plan_routes(
    session: Session,
    *,
    actor: User | None,
    dealership_id: int,
    date: date,
    rep_ids: list[int] | None = None,
    keep_assignments: bool = False,
    mode: str = FULL,
) -> PlanOutcome:
    """Plan (or re-plan, replacing the earlier plan whole) one lot-day.

    Reads a snapshot of the day, ends that read transaction, solves with no transaction open and
    no lock held, then locks the lot-day and writes if nothing the plan depends on changed.
    The whole call keeps to `ROUTING_TIME_LIMIT_SECONDS` plus the time to write.

    Raises NotFound for a lot out of scope, 422 for a past date or a rep who is not an active
    rep of the lot, PlanInProgress (409) when another plan of the lot-day is being created,
    PlanStale (409) when a visit of the day was booked, cancelled or changed during the solve.
    """
    started = timer.time()
    solver.warm_up()
    config = current_app.config
    dealership = get_dealership(session, actor, dealership_id)
    reps = _planning_reps(session, dealership, rep_ids)
    day = _collect_day(session, dealership, reps, date, keep_assignments)
    _build_matrix(day)
    read = timer.time()
    # Writing re-reads the day under lock and saves it: keep back about twice the read's time.
    budget = config["ROUTING_TIME_LIMIT_SECONDS"]
    deadline = started + budget - min(max(WRITE_RESERVE_SECONDS, 2 * (read - started)), budget / 2)
    if mode == INSERT:
        placement = _insert(day)
        _end_snapshot(session)
    else:
        problems, vehicle_reps = _problems(day)
        _end_snapshot(session)
        placement = _place(day, problems, vehicle_reps, deadline, config["ROUTING_SEED"])
    solved = timer.time()

    session.expire_all()
    plan = _lock_plan(session, dealership_id, date)
    now = _collect_day(session, dealership, reps, date, keep_assignments, lock=True)
    if now.fingerprint != day.fingerprint:
        raise PlanStale("A visit of this day was booked, cancelled or changed while planning; plan again.")
    dropped = placement.dropped + [day.solvable_at[loc] for loc in _drop_infeasible_tails(placement.sequences, day)]
    unassigned = day.unassigned + [{"visit_id": v, "reason": UnassignedReason.DID_NOT_FIT} for v in dropped]
    routes = _save(session, actor, plan, day, placement.sequences)
    plan.mode = mode
    plan.matrix_source = day.matrix_source
    plan.unassigned = sorted(
        ({**item, "reason": str(item["reason"])} for item in unassigned), key=lambda i: i["visit_id"]
    )
    plan.planned_by = actor.id if actor is not None else None
    plan.planned_at = utcnow()
    session.flush()
    log.info(
        "planned dealership %s for %s: read %.2f s, solve %.2f s, write %.2f s",
        dealership_id, date, read - started, solved - read, timer.time() - solved,
    )  # fmt: skip
    return PlanOutcome(plan=plan, routes=routes)


def _end_snapshot(session: Session) -> None:
    """End the read transaction before solving: the request has written nothing yet, and holding
    a transaction would keep other requests waiting (on SQLite, every writer)."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("the planner's snapshot must not carry changes")
    session.rollback()


def _collect_day(
    session: Session, dealership: Dealership, reps: list[User], day: date, keep_assignments: bool, lock: bool = False
) -> PlanningDay:
    """Step 1: the day's visits and reps' days, each visit either a candidate or unassigned with a reason."""
    zone = ZoneInfo(dealership.timezone)
    today = dealership.local_date()
    if day < today:
        raise PlanDateInPast.at("date", f"{day.isoformat()} is in the past at this lot (today is {today.isoformat()}).")
    clock = _Clock(day, zone)
    stmt = (
        select(Visit)
        .where(
            Visit.dealership_id == dealership.id,
            Visit.scheduled_date == day,
            Visit.status.in_([VisitStatus.SCHEDULED, *DONE_STATUSES]),
        )
        .order_by(Visit.window_start, Visit.id)
    )
    stmt = stmt.options(selectinload(Visit.account))
    if lock:
        stmt = stmt.with_for_update(of=Visit)
    day_visits = list(session.scalars(stmt))
    done = [v for v in day_visits if v.status in DONE_STATUSES]
    rep_days = _rep_days(reps, done, clock, day_is_today=day == today)
    on_shift = {rd.rep_id for rd in rep_days}

    unassigned: list[dict[str, Any]] = []
    candidates: list[Visit] = []
    for visit in day_visits:
        if visit.status in DONE_STATUSES:
            continue
        reason = _visit_reason(visit)
        if reason is None and (
            not rep_days or (keep_assignments and visit.assigned_rep_id and visit.assigned_rep_id not in on_shift)
        ):
            reason = UnassignedReason.NO_REP_AVAILABLE
        if reason:
            unassigned.append({"visit_id": visit.id, "reason": reason})
        else:
            candidates.append(visit)
    fingerprint = (
        tuple((rep.id, rep.shift_start, rep.shift_end, rep.active) for rep in reps),
        tuple(_visit_fingerprint(v, keep_assignments) for v in day_visits),
    )
    return PlanningDay(
        dealership=dealership,
        clock=clock,
        keep_assignments=keep_assignments,
        rep_days=rep_days,
        visits=day_visits,
        candidates=candidates,
        unassigned=unassigned,
        fingerprint=fingerprint,
    )


def _visit_reason(visit: Visit) -> UnassignedReason | None:
    if visit.kind != VisitKind.PERSONAL_VISIT:
        return UnassignedReason.DEALERSHIP_APPOINTMENT
    if visit.account.latitude is None or visit.account.longitude is None:
        return UnassignedReason.MISSING_COORDINATES
    try:
        check_contact_allowed(visit.account.active_restrictions, visit.kind)
    except ContactRestricted:
        return UnassignedReason.CONTACT_RESTRICTED
    return None


def _visit_fingerprint(visit: Visit, keep_assignments: bool) -> tuple:
    """What of a visit the plan depends on; the plan's own writes (route, sequence, eta) are not in it."""
    account = visit.account
    done = visit.status in DONE_STATUSES
    return (
        visit.id,
        visit.status,
        visit.kind,
        visit.priority,
        visit.window_start,
        visit.window_end,
        visit.duration_minutes,
        visit.assigned_rep_id if (done or keep_assignments) else None,
        visit.route_id if keep_assignments else None,
        (visit.checked_in_at, visit.eta, visit.sequence) if done else None,
        (account.id, account.latitude, account.longitude, account.state, account.timezone),
        tuple(account.active_restrictions),
    )


def _build_matrix(day: PlanningDay) -> None:
    """Step 2: the travel matrix (0 the lot, then each resume point of a rep who already worked,
    then the visits), every candidate's service window, and the visits no route could reach."""
    dealership = day.dealership
    points = [(dealership.latitude, dealership.longitude)]
    for rd in day.rep_days:
        if rd.done:
            last = rd.done[-1].account
            rd.start_location = len(points)
            points.append((last.latitude, last.longitude))
    first_visit_location = len(points)
    points += [(v.account.latitude, v.account.longitude) for v in day.candidates]
    matrix = travel_matrix(points)
    day.points, day.matrix_source = points, matrix.source
    day.distances, day.durations = matrix.distances_m, matrix.durations_s
    day.location_of = {v.id: first_visit_location + i for i, v in enumerate(day.candidates)}
    day.windows = {day.location_of[v.id]: _service_window(v, day.clock) for v in day.candidates}
    for visit in day.candidates:
        location = day.location_of[visit.id]
        eligible = day.rep_days
        if day.keep_assignments and visit.assigned_rep_id:
            eligible = [rd for rd in day.rep_days if rd.rep_id == visit.assigned_rep_id]
        reason = _presolve_reason(visit, day.windows[location], location, eligible, day.durations)
        if reason:
            day.unassigned.append({"visit_id": visit.id, "reason": reason})
        else:
            day.solvable.append(visit)
            day.solvable_at[location] = visit.id


def _insert(day: PlanningDay) -> Placement:
    """Step 3, insert mode: keep each route's stops in order and fit the new visits in."""
    sequences: dict[int, list[int]] = {rd.rep_id: [] for rd in day.rep_days}
    routed = sorted(
        (v for v in day.solvable if v.route_id is not None and v.assigned_rep_id in sequences),
        key=lambda v: v.sequence or 0,
    )
    for visit in routed:
        sequences[visit.assigned_rep_id].append(day.location_of[visit.id])
    routed_ids = {v.id for v in routed}
    fresh = sorted(
        (v for v in day.solvable if v.id not in routed_ids), key=lambda v: (-PRIZES[v.priority], v.window_end, v.id)
    )
    placed = _cheapest_insertion(
        sequences,
        [(day.location_of[v.id], v.assigned_rep_id if day.keep_assignments else None) for v in fresh],
        day.rep_day_of,
        day.windows,
        day.distances,
        day.durations,
    )
    return Placement(sequences=sequences, dropped=[v.id for v in fresh if day.location_of[v.id] not in placed])


def _place(
    day: PlanningDay, problems: list[solver.Problem], vehicle_reps: list[int], deadline: float, seed: int
) -> Placement:
    """Step 3, full mode: two solves side by side with two seeds, keeping the better plan (more
    prize served, then less driving). Each solves "every visit"; one that finds no feasible plan
    early in its solve spends the rest on "as many as fit, by priority" (prize-collecting). A day
    that surely cannot hold every visit (a bound, no solve) runs the prize-collecting model from
    the start. Touches no database state.

    Measured on the 120-visit day that fits (benchmarks/lot_day.py), eight seeds at 1.5 s:
    "every visit" drove 776-787 km, prize-collecting 759-877 km, once leaving a visit out; so both
    seeds go to "every visit" rather than one to each model."""
    sequences: dict[int, list[int]] = {rep_id: [] for rep_id in vehicle_reps}
    if not problems:
        return Placement(sequences=sequences, dropped=[])
    everyone, prize_collecting = problems
    jobs = prize_collecting.jobs
    if solver.cannot_serve_every_job(everyone):
        plans = solver.solve_side_by_side(
            [prize_collecting, prize_collecting], deadline=deadline, seeds=[seed + 1, seed]
        )
    else:
        plans = solver.solve_side_by_side(
            [everyone, everyone], deadline=deadline, seeds=[seed + 1, seed], fallbacks=[prize_collecting] * 2
        )

    def score(result: solver.Plan) -> tuple[int, int]:
        if not result.feasible:
            return -1, 0
        served = sum(jobs[stop.job].prize for route in result.routes for stop in route.stops)
        return served, -result.distance

    best = max((plan for plan in plans if plan is not None), key=score)
    placed: set[int] = set()
    for route in best.routes:
        sequences[vehicle_reps[route.vehicle]] = [jobs[stop.job].location for stop in route.stops]
        placed.update(jobs[stop.job].location for stop in route.stops)
    return Placement(sequences=sequences, dropped=[v for loc, v in day.solvable_at.items() if loc not in placed])


def _drop_infeasible_tails(sequences: dict[int, list[int]], day: PlanningDay) -> set[int]:
    """Never save a route that breaks a window or a shift: drop its last stops until it holds.

    The solver's answer holds by construction; this guards kept routes in insert mode whose
    rep starts later than planned (the day is under way).
    """
    dropped: set[int] = set()
    rep_day_of = day.rep_day_of
    for rep_id, locations in sequences.items():
        while locations and _simulate(locations, rep_day_of[rep_id], day.windows, day.durations) is None:
            dropped.add(locations.pop())
    return dropped


def _problems(day: PlanningDay) -> tuple[list[solver.Problem], list[int]]:
    """The day as two solver models, "every visit required" and prize-collecting; and the rep of
    each vehicle. No models when there is nothing to place."""
    visits, rep_days = day.solvable, day.rep_days
    if not visits or not rep_days:
        return [], [rd.rep_id for rd in rep_days]
    depots = [solver.Site(location=0)]
    vehicles = []
    for index, rd in enumerate(rep_days):
        start_depot = 0
        if rd.start_location:
            start_depot = len(depots)
            depots.append(solver.Site(location=rd.start_location))
        vehicles.append(
            solver.Vehicle(
                start_depot=start_depot,
                end_depot=0,
                tw_early=rd.start,
                tw_late=rd.end,
                profile=index if day.keep_assignments else 0,
            )
        )
    jobs = []
    for visit in visits:
        location = day.location_of[visit.id]
        window = day.windows[location]
        jobs.append(
            solver.Job(
                location=location,
                service_duration=window.duration,
                tw_early=window.earliest,
                tw_late=window.latest,
                prize=PRIZES[visit.priority],
            )
        )
    distance_matrices, duration_matrices = [day.distances], [day.durations]
    if day.keep_assignments:
        # One profile per rep, in which another rep's assigned visits cannot be reached.
        distance_matrices, duration_matrices = [], []
        for rd in rep_days:
            blocked = [day.location_of[v.id] for v in visits if v.assigned_rep_id not in (None, rd.rep_id)]
            dist, dur = day.distances.copy(), day.durations.copy()
            for location in blocked:
                dist[location, :] = dist[:, location] = UNREACHABLE
                dur[location, :] = dur[:, location] = UNREACHABLE
                dist[location, location] = dur[location, location] = 0
            distance_matrices.append(dist)
            duration_matrices.append(dur)
    prize_collecting = solver.Problem(
        num_locations=len(day.points),
        depots=depots,
        jobs=jobs,
        vehicles=vehicles,
        distance_matrices=distance_matrices,
        duration_matrices=duration_matrices,
    )
    everyone = dataclasses.replace(prize_collecting, jobs=[dataclasses.replace(job, required=True) for job in jobs])
    return [everyone, prize_collecting], [rd.rep_id for rd in rep_days]


def _save(
    session: Session, actor: User, plan: RoutePlan, day: PlanningDay, sequences: dict[int, list[int]]
) -> list[Route]:
    """Step 4: write the new sequences over the lot-day's routes. A rep's route keeps its id
    from plan to plan (a phone may hold it); a rep who loses every stop keeps an empty route."""
    dealership, clock, windows, durations = day.dealership, day.clock, day.windows, day.durations
    visit_at = {day.location_of[v.id]: v for v in day.candidates}
    for visit in day.visits:
        if visit.status == VisitStatus.SCHEDULED:
            visit.route_id = visit.sequence = visit.eta = visit.travel_km = None
    existing: dict[int, Route] = {}
    for route in session.scalars(select(Route).where(Route.plan_id == plan.id).order_by(Route.id)):
        existing.setdefault(route.rep_id, route)

    limit = current_app.config["MAP_WAYPOINT_LIMIT"]
    routes = []
    for rep_id, rd in day.rep_day_of.items():
        locations = sequences.get(rep_id, [])
        route = existing.pop(rep_id, None)
        if route is None:
            if not locations and not rd.done:
                continue
            route = Route(plan_id=plan.id, dealership_id=dealership.id, rep_id=rep_id, date=plan.date)
            session.add(route)
            session.flush()
        starts = _simulate(locations, rd, windows, durations) or []  # feasible: tails were dropped
        path = [(dealership.latitude, dealership.longitude)]
        km = minutes = 0.0
        previous = 0
        sequence = 0
        for visit in rd.done:
            sequence += 1
            visit.route_id, visit.sequence = route.id, sequence
            path.append((visit.account.latitude, visit.account.longitude))
        if rd.done:
            previous = rd.start_location
        for location, begin in zip(locations, starts, strict=True):
            sequence += 1
            visit = visit_at[location]
            leg_m, leg_s = int(day.distances[previous, location]), int(durations[previous, location])
            visit.assigned_rep_id, visit.route_id, visit.sequence = rep_id, route.id, sequence
            visit.eta = clock.moment(begin)
            visit.travel_km = round(leg_m / 1000, 2)
            km += leg_m / 1000
            minutes += leg_s / 60
            path.append(day.points[location])
            previous = location
        km += int(day.distances[previous, 0]) / 1000
        minutes += int(durations[previous, 0]) / 60
        path.append((dealership.latitude, dealership.longitude))
        first_start = rd.start_location if rd.done else 0
        if locations:
            route.start_at = clock.moment(starts[0] - int(durations[first_start, locations[0]]))
            last = locations[-1]
            route.end_at = clock.moment(starts[-1] + windows[last].duration + int(durations[last, 0]))
        else:
            route.start_at = clock.moment(rd.start)
            route.end_at = clock.moment(rd.start + int(durations[first_start, 0]))
        if rd.done and rd.done[0].eta is not None:
            route.start_at = min(route.start_at, rd.done[0].eta)
        if not locations and not rd.done:
            km = minutes = 0.0
            route.start_at = route.end_at = None
            path = []
        route.total_km = round(km, 2)
        route.total_travel_minutes = round(minutes, 1)
        route.map_urls = directions_links(path, limit) if path else []
        routes.append(route)
        record_audit(
            session,
            actor=actor,
            action="route.planned",
            entity_type="route",
            entity_id=route.id,
            dealership_id=dealership.id,
            changes={
                "rep_id": [None, rep_id],
                "date": [None, plan.date.isoformat()],
                "visit_ids": [None, [visit_at[loc].id for loc in locations]],
                "total_km": [None, route.total_km],
            },
        )
    # A rep left out of this plan keeps their route: with their finished visits, or empty.
    holding = {v.route_id for v in day.visits if v.status in DONE_STATUSES}
    for route in existing.values():
        if route.id not in holding:
            route.total_km = route.total_travel_minutes = 0.0
            route.start_at = route.end_at = None
            route.map_urls = []
    session.flush()
    for route in routes:
        session.expire(route, ["stops"])
    return routes


def unplanned_lot_days(session: Session, now: datetime | None = None) -> list[tuple[int, date]]:
    """Each lot's tomorrow (in the lot's zone) that has visits to route and no plan yet."""
    now = now or utcnow()
    found = []
    for dealership in session.scalars(select(Dealership).order_by(Dealership.id)):
        tomorrow = dealership.local_date(now) + timedelta(days=1)
        has_plan = select(RoutePlan.id).where(RoutePlan.dealership_id == dealership.id, RoutePlan.date == tomorrow)
        has_visits = select(Visit.id).where(
            Visit.dealership_id == dealership.id,
            Visit.scheduled_date == tomorrow,
            Visit.status == VisitStatus.SCHEDULED,
            Visit.kind == VisitKind.PERSONAL_VISIT,
        )
        if session.scalar(has_plan.limit(1)) is None and session.scalar(has_visits.limit(1)) is not None:
            found.append((dealership.id, tomorrow))
    return found


# --- reads ---------------------------------------------------------------------------------


def list_routes_query(
    actor: User, *, date: date | None = None, dealership_id: int | None = None, rep_id: int | None = None
) -> Select:
    stmt = scoped(select(Route), actor, Route.dealership_id)
    if actor.role == Role.REP:
        stmt = stmt.where(Route.rep_id == actor.id)
    for column, value in ((Route.date, date), (Route.dealership_id, dealership_id), (Route.rep_id, rep_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt.order_by(Route.date, Route.dealership_id, Route.rep_id)


def get_route(session: Session, actor: User, route_id: int) -> Route:
    """Raises NotFound, also out of scope (a rep sees only their own routes)."""
    route = get_scoped(session, Route, route_id, actor, "Route")
    if actor.role == Role.REP and route.rep_id != actor.id:
        raise NotFound("Route not found.")
    return route


class StopVisit(SimpleNamespace):
    """A visit on `/me/route`, read with Core: its columns as attributes, the model's `check_in`."""

    check_in = Visit.check_in


class StopAccount(SimpleNamespace):
    """A stop's account as the phone shows it (StopAccountSchema), with the model's `address`."""

    address = Account.address


class MyRoute(SimpleNamespace):
    """The rep's route as `/me/route` shows it, with the model's `map_url`."""

    map_url = Route.map_url


_ROUTE_KEYS = ("id", "start_at", "end_at", "total_km", "map_urls")
_STOP_ACCOUNT_KEYS = ("id", "account_number", "customer_name", "phone", "address_line1", "address_line2", "city",
                      "state", "postal_code", "latitude", "longitude", "amount_due", "days_past_due")  # fmt: skip


@functools.cache
def _my_route_read() -> tuple[Select, tuple[tuple[str, ...], ...]]:
    """Built once per process: every rep's phone reads it all day. One Core statement (loading
    ORM objects cost more than the query itself): a row per stop with the route, the visit, its
    account and its outcome, or one row with no stop for a route without any. Returns the
    statement and the attribute names of each part of a row, in order."""
    routes = Route.__table__
    route = (
        select(*(routes.c[key] for key in _ROUTE_KEYS))
        .where(
            routes.c.rep_id == bindparam("rep_id"),
            routes.c.date == bindparam("day"),
            # The rep's lots as of now (a rep moved to another lot no longer reads the old route).
            routes.c.dealership_id.in_(
                select(user_dealerships.c.dealership_id).where(user_dealerships.c.user_id == bindparam("rep_id"))
            ),
        )
        .order_by(routes.c.id.desc())
        .limit(1)
        .subquery("route")
    )
    parts = [mapped_columns(Visit), mapped_columns(Account, _STOP_ACCOUNT_KEYS), mapped_columns(Outcome)]
    visits, accounts, outcomes = Visit.__table__, Account.__table__, Outcome.__table__
    statement = (
        select(*route.c, *(column for part in parts for _key, column in part))
        .select_from(
            route.outerjoin(visits, visits.c.route_id == route.c.id)
            .outerjoin(accounts, accounts.c.id == visits.c.account_id)
            .outerjoin(outcomes, outcomes.c.visit_id == visits.c.id)
        )
        .order_by(visits.c.sequence)
    )
    return statement, (_ROUTE_KEYS, *(tuple(key for key, _column in part) for part in parts))


def get_my_route(session: Session, rep: User, day: date | None) -> tuple[date, MyRoute | None]:
    """The rep's route of `day` (default: today in their dealership's zone), in their lots: the
    route's fields and its `stops` (each a StopVisit with `account` and `outcome`), in order."""
    if day is None:
        day = home_lot_today(session, rep)
    if not rep.dealership_ids:
        return day, None
    statement, (route_keys, visit_keys, account_keys, outcome_keys) = _my_route_read()
    rows = session.connection().execute(statement, {"rep_id": rep.id, "day": day}).all()
    if not rows:
        return day, None
    visit_at = len(route_keys)
    account_at = visit_at + len(visit_keys)
    outcome_at = account_at + len(account_keys)
    route = MyRoute(**dict(zip(route_keys, rows[0][:visit_at], strict=True)), stops=[])
    for row in rows:
        visit = _record(StopVisit, visit_keys, row[visit_at:account_at])
        if visit is None:  # a route without stops
            continue
        visit.account = _record(StopAccount, account_keys, row[account_at:outcome_at])
        visit.outcome = _record(SimpleNamespace, outcome_keys, row[outcome_at:])
        route.stops.append(visit)
    return day, route


def _record(kind: type[SimpleNamespace], keys: tuple[str, ...], values: Sequence[Any]) -> Any:
    """One outer-joined part of a row as `kind`, or None when the join found nothing."""
    columns = dict(zip(keys, values, strict=True))
    return None if columns["id"] is None else kind(**columns)


def route_geojson(route: Route, dealership: Dealership) -> dict[str, Any]:
    """A FeatureCollection: the route as a LineString, each stop as a Point."""
    lot = [dealership.longitude, dealership.latitude]
    line = [lot] + [[v.account.longitude, v.account.latitude] for v in route.stops] + [lot]
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": {
                "route_id": route.id,
                "rep_id": route.rep_id,
                "date": route.date.isoformat(),
                "total_km": route.total_km,
            },
        }
    ]
    for visit in route.stops:
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [visit.account.longitude, visit.account.latitude]},
                "properties": {
                    "visit_id": visit.id,
                    "sequence": visit.sequence,
                    "eta": visit.eta.isoformat() if visit.eta else None,
                    "customer_name": visit.account.customer_name,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
