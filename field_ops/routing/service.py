"""Route planning: a lot's day of visits grouped into reps' routes, every unplaced visit with
a reason a specialist can act on. PyVRP (behind `routing.solver`) does the full plans; new
visits booked during the day are fitted into existing routes by cheapest insertion, so the
stops already in them keep their order."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app
from sqlalchemy import Select, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field_ops.audit.service import record_audit
from field_ops.core.db import utcnow
from field_ops.core.errors import Conflict, NotFound, field_error
from field_ops.core.scope import ensure_visible, scoped
from field_ops.dealerships.models import Dealership
from field_ops.routing import solver
from field_ops.routing.links import directions_links
from field_ops.routing.matrix import travel_matrix
from field_ops.routing.models import Route, RoutePlan
from field_ops.users.models import Role, User
from field_ops.visits.models import Visit, VisitKind, VisitStatus
from field_ops.visits.rules import ContactRestricted, check_contact_allowed, contact_hours_on, contact_policy

# Prizes dwarf any day's driving (metres), so the solver serves every visit it can and only
# then minimises distance; an urgent visit outweighs any number of lower ones.
PRIZES = {"urgent": 10**10, "high": 10**8, "normal": 10**7, "low": 10**6}
UNREACHABLE = 10**9
DONE_STATUSES = (VisitStatus.CHECKED_IN, VisitStatus.COMPLETED)
FULL, INSERT = "full", "insert"


class PlanInProgress(Conflict):
    code, title = "plan_in_progress", "This lot-day is being planned right now"


@dataclass
class RepDay:
    """A rep's working day: where and when they (re)start, when they must be back."""

    rep: User
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
        reps = session.scalars(select(User).where(User.role == Role.REP, User.active.is_(True)).order_by(User.id))
        return [rep for rep in reps if dealership.id in rep.dealership_ids]
    reps = []
    for rep_id in dict.fromkeys(rep_ids):
        rep = session.get(User, rep_id)
        if rep is None or rep.role != Role.REP or not rep.active or dealership.id not in rep.dealership_ids:
            raise field_error("rep_ids", f"User {rep_id} is not an active rep of this dealership.")
        reps.append(rep)
    return reps


def _lock_plan(session: Session, dealership_id: int, day: date) -> RoutePlan:
    """The lot-day row, locked: a second planner waits here, then replaces the first's plan whole."""
    stmt = select(RoutePlan).where(RoutePlan.dealership_id == dealership_id, RoutePlan.date == day)
    plan = session.scalar(stmt.with_for_update())
    if plan is not None:
        return plan
    try:
        with session.begin_nested():
            plan = RoutePlan(dealership_id=dealership_id, date=day)
            session.add(plan)
    except IntegrityError as exc:
        raise PlanInProgress("Someone else is planning this lot-day; try again in a moment.") from exc
    return plan


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
        days.append(RepDay(rep=rep, start=min(start, end), end=end, done=rep_done))
    return days


def _service_window(visit: Visit, clock: _Clock) -> tuple[int, int, int]:
    """(earliest start, latest start, duration) in seconds: inside the visit's window, and late
    enough no more than lets the visit end by the close of contact hours in the customer's zone."""
    account = visit.account
    policy = contact_policy(account.state, current_app.config)
    _, closes = contact_hours_on(visit.window_start, account.timezone, policy)
    service = visit.duration_minutes * 60
    latest = min(clock.seconds(visit.window_end), clock.seconds(closes) - service)
    return max(clock.seconds(visit.window_start), 0), latest, service


def _presolve_reason(
    visit: Visit, window: tuple[int, int], index: int, rep_days: list[RepDay], durations: np.ndarray
) -> str | None:
    """Why a visit cannot be placed whatever the rest of the day looks like, or None."""
    window_start, window_end = window
    service = visit.duration_minutes * 60
    on_shift = [rd for rd in rep_days if window_end >= rd.start and window_start + service <= rd.end]
    if not on_shift:
        return "outside_shift"
    for rd in on_shift:
        arrival = rd.start + int(durations[rd.start_location, index])
        begin = max(arrival, window_start)
        if begin <= window_end and begin + service + int(durations[index, 0]) <= rd.end:
            return None
    return "window_unreachable"


def _simulate(
    sequence: list[int], rd: RepDay, windows: dict[int, tuple[int, int, int]], durations: np.ndarray
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
    windows: dict[int, tuple[int, int, int]],
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


def plan_routes(
    session: Session,
    *,
    actor: User,
    dealership_id: int,
    date: date,
    rep_ids: list[int] | None = None,
    keep_assignments: bool = False,
    mode: str = FULL,
) -> PlanOutcome:
    """Plan (or re-plan, replacing the earlier plan whole) one lot-day.

    Raises NotFound for a lot out of scope, 422 for a past date or a rep who is not an active
    rep of the lot, PlanInProgress (409) when another plan of the lot-day is being created.
    """
    dealership = session.get(Dealership, dealership_id)
    if dealership is None:
        raise NotFound("Dealership not found.")
    ensure_visible(actor, dealership.id, "Dealership")
    zone = ZoneInfo(dealership.timezone)
    today = utcnow().astimezone(zone).date()
    if date < today:
        raise field_error("date", f"{date.isoformat()} is in the past at this lot (today is {today.isoformat()}).")
    reps = _planning_reps(session, dealership, rep_ids)
    plan = _lock_plan(session, dealership.id, date)
    clock = _Clock(date, zone)

    day_visits = list(
        session.scalars(
            select(Visit)
            .where(
                Visit.dealership_id == dealership.id,
                Visit.scheduled_date == date,
                Visit.status.in_([VisitStatus.SCHEDULED, *DONE_STATUSES]),
            )
            .order_by(Visit.window_start, Visit.id)
            .with_for_update(of=Visit)
        )
    )
    done = [v for v in day_visits if v.status in DONE_STATUSES]
    rep_days = _rep_days(reps, done, clock, day_is_today=date == today)
    rep_ids_on_shift = {rd.rep.id for rd in rep_days}

    unassigned: list[dict[str, Any]] = []
    candidates: list[Visit] = []
    for visit in day_visits:
        if visit.status in DONE_STATUSES:
            continue
        reason = None
        if visit.kind != VisitKind.PERSONAL_VISIT:
            reason = "dealership_appointment"
        elif visit.account.latitude is None or visit.account.longitude is None:
            reason = "missing_coordinates"
        else:
            try:
                check_contact_allowed(visit.account.active_restrictions, visit.kind)
            except ContactRestricted:
                reason = "contact_restricted"
        if reason is None and (
            not rep_days
            or (keep_assignments and visit.assigned_rep_id and visit.assigned_rep_id not in rep_ids_on_shift)
        ):
            reason = "no_rep_available"
        if reason:
            unassigned.append({"visit_id": visit.id, "reason": reason})
        else:
            candidates.append(visit)

    # Locations: 0 the lot, then each resume point of a rep who already worked, then the visits.
    points = [(dealership.latitude, dealership.longitude)]
    for rd in rep_days:
        if rd.done:
            last = rd.done[-1].account
            rd.start_location = len(points)
            points.append((last.latitude, last.longitude))
    first_visit_location = len(points)
    points += [(v.account.latitude, v.account.longitude) for v in candidates]
    matrix = travel_matrix(points)
    distances, durations = matrix.distances_m, matrix.durations_s

    location_of = {v.id: first_visit_location + i for i, v in enumerate(candidates)}
    windows = {location_of[v.id]: _service_window(v, clock) for v in candidates}
    solvable = []
    for visit in candidates:
        location = location_of[visit.id]
        eligible = rep_days
        if keep_assignments and visit.assigned_rep_id:
            eligible = [rd for rd in rep_days if rd.rep.id == visit.assigned_rep_id]
        reason = _presolve_reason(visit, windows[location][:2], location, eligible, durations)
        if reason:
            unassigned.append({"visit_id": visit.id, "reason": reason})
        else:
            solvable.append(visit)

    sequences: dict[int, list[int]] = {rd.rep.id: [] for rd in rep_days}
    rep_day_of = {rd.rep.id: rd for rd in rep_days}
    if mode == INSERT:
        routed = sorted(
            (v for v in solvable if v.route_id is not None and v.assigned_rep_id in sequences),
            key=lambda v: v.sequence or 0,
        )
        for visit in routed:
            sequences[visit.assigned_rep_id].append(location_of[visit.id])
        routed_ids = {v.id for v in routed}
        fresh = sorted(
            (v for v in solvable if v.id not in routed_ids),
            key=lambda v: (-PRIZES[v.priority], v.window_end, v.id),
        )
        placed = _cheapest_insertion(
            sequences,
            [(location_of[v.id], v.assigned_rep_id if keep_assignments else None) for v in fresh],
            rep_day_of,
            windows,
            distances,
            durations,
        )
        dropped = [v for v in fresh if location_of[v.id] not in placed]
    else:
        placement = _solve(
            solvable, location_of, windows, rep_days, distances, durations, keep_assignments, len(points)
        )
        for rep_id, locations in placement.items():
            sequences[rep_id] = locations
        placed_locations = {loc for locs in placement.values() for loc in locs}
        dropped = [v for v in solvable if location_of[v.id] not in placed_locations]
    dropped_locations = _drop_infeasible_tails(sequences, rep_day_of, windows, durations)
    dropped += [v for v in solvable if location_of[v.id] in dropped_locations]
    unassigned += [{"visit_id": v.id, "reason": "did_not_fit"} for v in dropped]

    routes = _save(
        session,
        actor,
        plan,
        dealership,
        day_visits,
        candidates,
        sequences,
        rep_day_of,
        location_of,
        windows,
        points,
        distances,
        durations,
        clock,
    )
    plan.mode = mode
    plan.matrix_source = matrix.source
    plan.unassigned = sorted(unassigned, key=lambda item: item["visit_id"])
    plan.planned_by = actor.id
    plan.planned_at = utcnow()
    session.flush()
    return PlanOutcome(plan=plan, routes=routes)


def _drop_infeasible_tails(
    sequences: dict[int, list[int]],
    rep_day_of: dict[int, RepDay],
    windows: dict[int, tuple[int, int, int]],
    durations: np.ndarray,
) -> set[int]:
    """Never save a route that breaks a window or a shift: drop its last stops until it holds.

    The solver's answer holds by construction; this guards kept routes in insert mode whose
    rep starts later than planned (the day is under way).
    """
    dropped: set[int] = set()
    for rep_id, locations in sequences.items():
        while locations and _simulate(locations, rep_day_of[rep_id], windows, durations) is None:
            dropped.add(locations.pop())
    return dropped


def _solve(
    visits: list[Visit],
    location_of: dict[int, int],
    windows: dict[int, tuple[int, int, int]],
    rep_days: list[RepDay],
    distances: np.ndarray,
    durations: np.ndarray,
    keep_assignments: bool,
    num_locations: int,
) -> dict[int, list[int]]:
    if not visits or not rep_days:
        return {}
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
                profile=index if keep_assignments else 0,
            )
        )
    jobs = [
        solver.Job(
            location=location_of[v.id],
            service_duration=windows[location_of[v.id]][2],
            tw_early=windows[location_of[v.id]][0],
            tw_late=windows[location_of[v.id]][1],
            prize=PRIZES[v.priority],
        )
        for v in visits
    ]
    distance_matrices, duration_matrices = [distances], [durations]
    if keep_assignments:
        # One profile per rep, in which another rep's assigned visits cannot be reached.
        distance_matrices, duration_matrices = [], []
        for rd in rep_days:
            blocked = [location_of[v.id] for v in visits if v.assigned_rep_id not in (None, rd.rep.id)]
            dist, dur = distances.copy(), durations.copy()
            for location in blocked:
                dist[location, :] = dist[:, location] = UNREACHABLE
                dur[location, :] = dur[:, location] = UNREACHABLE
                dist[location, location] = dur[location, location] = 0
            distance_matrices.append(dist)
            duration_matrices.append(dur)
    problem = solver.Problem(
        num_locations=num_locations,
        depots=depots,
        jobs=jobs,
        vehicles=vehicles,
        distance_matrices=distance_matrices,
        duration_matrices=duration_matrices,
    )
    config = current_app.config
    budget, seed = config["ROUTING_TIME_LIMIT_SECONDS"], config["ROUTING_SEED"]
    # Most days every visit fits: asking for all of them turns the search into pure distance
    # minimisation, which converges much faster than prize collecting (3 % vs 5 % off a 30 s
    # solve on the 120-visit benchmark). Only when that is infeasible are visits dropped, by prize.
    everyone = dataclasses.replace(problem, jobs=[dataclasses.replace(job, required=True) for job in jobs])
    result = solver.solve(everyone, time_limit_s=budget, seed=seed)
    if not result.feasible:
        result = solver.solve(problem, time_limit_s=budget / 2, seed=seed)
    placement: dict[int, list[int]] = {}
    for route in result.routes:
        placement[rep_days[route.vehicle].rep.id] = [jobs[stop.job].location for stop in route.stops]
    return placement


def _save(
    session: Session,
    actor: User,
    plan: RoutePlan,
    dealership: Dealership,
    day_visits: list[Visit],
    candidates: list[Visit],
    sequences: dict[int, list[int]],
    rep_day_of: dict[int, RepDay],
    location_of: dict[int, int],
    windows: dict[int, tuple[int, int, int]],
    points: list[tuple[float, float]],
    distances: np.ndarray,
    durations: np.ndarray,
    clock: _Clock,
) -> list[Route]:
    """Replace the lot-day's routes whole with the new sequences."""
    visit_at = {location_of[v.id]: v for v in candidates}
    for visit in day_visits:
        if visit.status == VisitStatus.SCHEDULED:
            visit.route_id = visit.sequence = visit.eta = visit.travel_km = None
    # A rep left out of this plan keeps the route holding their finished visits.
    kept = {v.route_id for v in day_visits if v.status in DONE_STATUSES and v.assigned_rep_id not in rep_day_of}
    session.flush()
    session.execute(delete(Route).where(Route.plan_id == plan.id, Route.id.not_in(kept - {None} or {-1})))
    session.flush()

    limit = current_app.config["MAP_WAYPOINT_LIMIT"]
    routes = []
    for rep_id, rd in rep_day_of.items():
        locations = sequences.get(rep_id, [])
        if not locations and not rd.done:
            continue
        starts = _simulate(locations, rd, windows, durations) or []  # feasible: tails were dropped
        route = Route(plan_id=plan.id, dealership_id=dealership.id, rep_id=rep_id, date=plan.date)
        session.add(route)
        session.flush()
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
            leg_m, leg_s = int(distances[previous, location]), int(durations[previous, location])
            visit.assigned_rep_id, visit.route_id, visit.sequence = rep_id, route.id, sequence
            visit.eta = clock.moment(begin)
            visit.travel_km = round(leg_m / 1000, 2)
            km += leg_m / 1000
            minutes += leg_s / 60
            path.append(points[location])
            previous = location
        km += int(distances[previous, 0]) / 1000
        minutes += int(durations[previous, 0]) / 60
        path.append((dealership.latitude, dealership.longitude))
        first_start = rd.start_location if rd.done else 0
        if locations:
            route.start_at = clock.moment(starts[0] - int(durations[first_start, locations[0]]))
            last = locations[-1]
            route.end_at = clock.moment(starts[-1] + windows[last][2] + int(durations[last, 0]))
        else:
            route.start_at = clock.moment(rd.start)
            route.end_at = clock.moment(rd.start + int(durations[first_start, 0]))
        if rd.done and rd.done[0].eta is not None:
            route.start_at = min(route.start_at, rd.done[0].eta)
        route.total_km = round(km, 2)
        route.total_travel_minutes = round(minutes, 1)
        route.map_urls = directions_links(path, limit)
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
    session.flush()
    for route in routes:
        session.refresh(route)
    return routes


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
    route = session.get(Route, route_id)
    if route is None:
        raise NotFound("Route not found.")
    ensure_visible(actor, route.dealership_id, "Route")
    if actor.role == Role.REP and route.rep_id != actor.id:
        raise NotFound("Route not found.")
    return route


def get_plan_routes(session: Session, plan: RoutePlan) -> list[Route]:
    return list(session.scalars(select(Route).where(Route.plan_id == plan.id).order_by(Route.rep_id)))


def get_my_route(session: Session, rep: User, day: date | None) -> tuple[date, Route | None]:
    """The rep's route of `day` (default: today in their dealership's zone)."""
    if day is None:
        zone = "UTC"
        if rep.dealerships:
            zone = rep.dealerships[0].timezone
        day = utcnow().astimezone(ZoneInfo(zone)).date()
    mine = scoped(select(Route), rep, Route.dealership_id).where(Route.rep_id == rep.id, Route.date == day)
    route = session.scalar(mine.order_by(Route.id.desc()))
    return day, route


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
