"""Visits: booking with the compliance guardrails, changes, check-in at the door, outcomes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from geopy.distance import geodesic
from sqlalchemy import Select, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from field_ops.accounts.models import Account
from field_ops.accounts.service import learn_pin_from_check_in
from field_ops.core.audit import AuditedUpdate, field_changes, record_audit, record_audits
from field_ops.core.db import rows_inserted, utcnow
from field_ops.core.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    NotYetHappened,
    field_error,
)
from field_ops.dealerships.models import Dealership
from field_ops.dealerships.service import lot_date
from field_ops.follow_ups.service import close_for_booking
from field_ops.users.models import Role, User
from field_ops.users.scope import ensure_visible, get_scoped, scoped
from field_ops.users.service import active_rep_of_lot
from field_ops.visits import rules
from field_ops.visits.consequences import apply_outcome_consequences
from field_ops.visits.errors import NotAssignedRep, OutcomeAlreadyRecorded, PromiseDateOutOfRange
from field_ops.visits.models import Outcome, OutcomeCode, Visit, VisitKind, VisitStatus

MAX_PROMISE_AHEAD = timedelta(days=365)
TRANSITIONS = {
    (VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN),
    (VisitStatus.CHECKED_IN, VisitStatus.COMPLETED),
    (VisitStatus.SCHEDULED, VisitStatus.CANCELLED),
    (VisitStatus.SCHEDULED, VisitStatus.MISSED),
    (VisitStatus.CHECKED_IN, VisitStatus.MISSED),
}
RESTRICTION_SET_BY_OUTCOME = {
    OutcomeCode.BANKRUPTCY_CLAIMED: "bankruptcy",
    OutcomeCode.DISPUTE: "cease_contact",
}


# --- small helpers -------------------------------------------------------------------------


def _policy(account: Account) -> rules.ContactPolicy:
    return rules.contact_policy(account.state, current_app.config)


def _dealership_zone(session: Session, dealership_id: int) -> ZoneInfo:
    return ZoneInfo(session.get(Dealership, dealership_id).timezone)


def check_transition(visit: Visit, to_status: str) -> None:
    """Status moves only along the contract's arrows; a dealership appointment may skip check-in."""
    allowed = (visit.status, to_status) in TRANSITIONS or (
        visit.kind == VisitKind.DEALERSHIP_APPOINTMENT
        and (visit.status, to_status) == (VisitStatus.SCHEDULED, VisitStatus.COMPLETED)
    )
    if not allowed:
        raise InvalidTransition(f"A {visit.kind} cannot go from {visit.status} to {to_status}.")


def _check_recorded_at(at: datetime, field: str = "recorded_at") -> None:
    limit = utcnow() + timedelta(seconds=current_app.config["RECORDED_AT_MAX_FUTURE_SECONDS"])
    if at > limit:
        raise NotYetHappened.at(field, "Is in the future: check the phone's clock.")


def _attempted_visit_starts(session: Session, account_id: int, around: datetime, days: int, exclude_id: int | None):
    span = timedelta(days=days)
    stmt = select(Visit.window_start).where(
        Visit.account_id == account_id,
        Visit.status != VisitStatus.CANCELLED,
        Visit.window_start > around - span,
        Visit.window_start < around + span,
    )
    if exclude_id is not None:
        stmt = stmt.where(Visit.id != exclude_id)
    return list(session.scalars(stmt))


def _check_guardrails(
    session: Session,
    account: Account,
    kind: str,
    window_start: datetime,
    window_end: datetime,
    duration_minutes: int,
    exclude_id: int | None,
    existing_starts: list[datetime] | None = None,
) -> None:
    """Every booking rule, in the order a specialist would want to hear about them. A caller that
    preloaded the account's attempted visits (an import) passes their starts as `existing_starts`."""
    rules.check_window_shape(window_start, window_end, utcnow())
    rules.check_contact_allowed(account.active_restrictions, kind)
    policy = _policy(account)
    duration = timedelta(minutes=duration_minutes)
    rules.check_window_in_contact_hours(window_start, window_end, account.timezone, policy, duration)
    if existing_starts is None:
        existing_starts = _attempted_visit_starts(session, account.id, window_start, policy.window_days, exclude_id)
    rules.check_visit_frequency(existing_starts, window_start, policy)


def check_booking(
    session: Session,
    *,
    account: Account,
    window_start: datetime,
    window_end: datetime,
    kind: str = VisitKind.PERSONAL_VISIT,
    duration_minutes: int = 15,
    assigned_rep_id: int | None = None,
    existing_starts: list[datetime],
) -> None:
    """The checks of `book_visit`, in its order, for a caller that books many visits at once and
    preloaded the account's attempted-visit starts near `window_start` (and locks the accounts
    itself before writing). Raises the same refusals."""
    if assigned_rep_id is not None:
        active_rep_of_lot(session, assigned_rep_id, account.dealership_id, field="assigned_rep_id")
    _check_guardrails(
        session, account, kind, window_start, window_end, duration_minutes, None, existing_starts=existing_starts
    )


def record_bookings(session: Session, *, actor: User, bookings: list[dict[str, Any]]) -> list[int]:
    """Insert visits that passed `check_booking` in one bulk INSERT (each dict holds the columns
    `book_visit` sets but status and booked_by), audit each as `book_visit` does, in bulk too.
    Returns the new visits' ids, in the order of `bookings`."""
    if not bookings:
        return []
    now = utcnow()
    rows = [
        {**booking, "status": VisitStatus.SCHEDULED, "booked_by": actor.id, "created_at": now, "updated_at": now}
        for booking in bookings
    ]
    session.execute(insert(Visit), rows)
    ids = {
        (account_id, start, end): visit_id
        for visit_id, account_id, start, end in session.execute(
            select(Visit.id, Visit.account_id, Visit.window_start, Visit.window_end).where(
                Visit.booked_by == actor.id,
                Visit.created_at == now,
                Visit.dealership_id.in_({row["dealership_id"] for row in rows}),
            )
        )
    }
    visit_ids = [ids[(row["account_id"], row["window_start"], row["window_end"])] for row in rows]
    rows_inserted.send(session, entity_type="visit", ids=visit_ids)
    record_audits(
        session,
        actor=actor,
        entries=[
            {
                "action": "visit.booked",
                "entity_type": "visit",
                "entity_id": visit_id,
                "dealership_id": row["dealership_id"],
                "changes": field_changes({}, {"account_id": row["account_id"], **_snapshot(Visit(**row))}),
            }
            for visit_id, row in zip(visit_ids, rows, strict=True)
        ],
    )
    return visit_ids


def _snapshot(visit: Visit) -> dict[str, Any]:
    return {
        "window_start": visit.window_start,
        "window_end": visit.window_end,
        "scheduled_date": visit.scheduled_date,
        "duration_minutes": visit.duration_minutes,
        "priority": visit.priority,
        "reason": visit.reason,
        "notes": visit.notes,
        "status": visit.status,
        "cancel_reason": visit.cancel_reason,
        "assigned_rep_id": visit.assigned_rep_id,
        "route_id": visit.route_id,
    }


def _audit(session: Session, actor: User | None, action: str, visit: Visit, changes: dict[str, Any]) -> None:
    record_audit(
        session,
        actor=actor,
        action=action,
        entity_type="visit",
        entity_id=visit.id,
        dealership_id=visit.dealership_id,
        changes=changes,
    )


def _update_action(changes: dict[str, Any]) -> str:
    return "visit.cancelled" if "status" in changes else "visit.updated"


def _clear_route(visit: Visit) -> None:
    visit.route_id = visit.sequence = visit.eta = None


# --- reads ---------------------------------------------------------------------------------


def get_visit(session: Session, actor: User, visit_id: int, *, for_field_work: bool = False) -> Visit:
    """Raises NotFound, also for a visit out of the actor's scope: a rep reads only their own
    visits, but for field work sees the lot's, so another rep's visit is a clear 403 later."""
    visit = get_scoped(session, Visit, visit_id, actor, "Visit")
    if actor.role == Role.REP and visit.assigned_rep_id != actor.id and not for_field_work:
        raise NotFound("Visit not found.")
    return visit


def get_outcome(session: Session, actor: User, visit_id: int) -> Outcome:
    """The visit's outcome. Raises NotFound for a visit out of scope or without an outcome."""
    visit = get_visit(session, actor, visit_id)
    outcome = session.scalar(select(Outcome).where(Outcome.visit_id == visit.id))
    if outcome is None:
        raise NotFound("No outcome is recorded for this visit yet.")
    return outcome


def list_visits_query(
    actor: User,
    *,
    date: date | None = None,
    dealership_id: int | None = None,
    rep_id: int | None = None,
    status: str | None = None,
    account_id: int | None = None,
    kind: str | None = None,
) -> Select:
    stmt = scoped(select(Visit), actor, Visit.dealership_id)
    if actor.role == Role.REP:
        stmt = stmt.where(Visit.assigned_rep_id == actor.id)
    for column, value in (
        (Visit.scheduled_date, date),
        (Visit.dealership_id, dealership_id),
        (Visit.assigned_rep_id, rep_id),
        (Visit.status, status),
        (Visit.account_id, account_id),
        (Visit.kind, kind),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt.order_by(Visit.scheduled_date, Visit.window_start, Visit.id)


# --- booking and changes -------------------------------------------------------------------


def book_visit(
    session: Session,
    *,
    actor: User,
    account_id: int,
    window_start: datetime,
    window_end: datetime,
    kind: str = VisitKind.PERSONAL_VISIT,
    duration_minutes: int = 15,
    reason: str | None = None,
    priority: str = "normal",
    assigned_rep_id: int | None = None,
    notes: str | None = None,
    follow_up_id: int | None = None,
) -> Visit:
    """Book a visit. Raises InvalidWindow, OutsideContactHours (422), ContactRestricted,
    VisitFrequencyLimit (409) and 422s naming the field (account, rep, follow-up)."""
    account = session.get(Account, account_id)
    if account is None:
        raise field_error("account_id", f"Unknown account {account_id}.")
    ensure_visible(actor, account.dealership_id, "Account")
    if assigned_rep_id is not None:
        active_rep_of_lot(session, assigned_rep_id, account.dealership_id, field="assigned_rep_id")
    # Lock the account row so two bookings for one account cannot both pass the frequency rule.
    session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    _check_guardrails(session, account, kind, window_start, window_end, duration_minutes, exclude_id=None)
    visit = Visit(
        account=account,
        dealership_id=account.dealership_id,
        kind=kind,
        scheduled_date=lot_date(session, account.dealership_id, window_start),
        window_start=window_start,
        window_end=window_end,
        duration_minutes=duration_minutes,
        reason=reason,
        priority=priority,
        notes=notes,
        status=VisitStatus.SCHEDULED,
        assigned_rep_id=assigned_rep_id,
        booked_by=actor.id,
    )
    session.add(visit)
    session.flush()
    if follow_up_id is not None:
        close_for_booking(session, actor=actor, follow_up_id=follow_up_id, account_id=account.id, visit_id=visit.id)
        visit.follow_up_id = follow_up_id
    _audit(session, actor, "visit.booked", visit, field_changes({}, {"account_id": account.id, **_snapshot(visit)}))
    return visit


def update_visit(session: Session, *, actor: User, visit: Visit, changes: dict[str, Any]) -> Visit:
    """Reschedule, reassign, reprioritise, annotate or cancel. Raises the booking refusals again
    for a new window or rep, InvalidTransition for other status changes, 422 without a cancel reason."""
    audit = AuditedUpdate(visit, _snapshot)
    new_status = changes.get("status")
    if new_status is not None and new_status != visit.status:
        if new_status != VisitStatus.CANCELLED:
            raise InvalidTransition(f"Only cancelling is done by PATCH; {visit.status} -> {new_status} is not allowed.")
        check_transition(visit, VisitStatus.CANCELLED)
        if not changes.get("cancel_reason"):
            raise field_error("cancel_reason", "Say why the visit is cancelled.")
    elif "cancel_reason" in changes:
        raise field_error("cancel_reason", "Only with status: cancelled.")

    planning = {"window_start", "window_end", "assigned_rep_id", "duration_minutes"} & changes.keys()
    if planning and visit.status != VisitStatus.SCHEDULED:
        raise InvalidTransition(f"A {visit.status} visit can no longer be rescheduled or reassigned.")
    if {"window_start", "window_end", "assigned_rep_id", "duration_minutes"} & changes.keys():
        window_start = changes.get("window_start", visit.window_start)
        window_end = changes.get("window_end", visit.window_end)
        if changes.get("assigned_rep_id") is not None:
            active_rep_of_lot(session, changes["assigned_rep_id"], visit.dealership_id, field="assigned_rep_id")
        session.execute(select(Account.id).where(Account.id == visit.account_id).with_for_update())
        duration_minutes = changes.get("duration_minutes", visit.duration_minutes)
        _check_guardrails(
            session, visit.account, visit.kind, window_start, window_end, duration_minutes, exclude_id=visit.id
        )
        visit.window_start, visit.window_end = window_start, window_end
        visit.scheduled_date = lot_date(session, visit.dealership_id, window_start)
        if "assigned_rep_id" in changes:
            visit.assigned_rep_id = changes["assigned_rep_id"]
        _clear_route(visit)
    for name in ("duration_minutes", "priority", "reason", "notes"):
        if name in changes:
            setattr(visit, name, changes[name])
    if new_status == VisitStatus.CANCELLED and visit.status != VisitStatus.CANCELLED:
        visit.status = VisitStatus.CANCELLED
        visit.cancel_reason = changes["cancel_reason"]
        _clear_route(visit)
    audit.record(session, actor=actor, action=_update_action, entity_type="visit")
    return visit


def _contact_allowed(account: Account, kind: str) -> bool:
    try:
        rules.check_contact_allowed(account.active_restrictions, kind)
    except rules.ContactRestricted:
        return False
    return True


def cancel_open_future_visits(
    session: Session, *, actor: User | None, account: Account, reason: str, keep_visit_id: int | None = None
) -> list[Visit]:
    """Cancel the account's scheduled visits that have not ended yet and that its restrictions now bar
    (a `do_not_visit` account keeps its dealership appointments)."""
    stmt = select(Visit).where(
        Visit.account_id == account.id,
        Visit.status == VisitStatus.SCHEDULED,
        Visit.window_end > utcnow(),
    )
    if keep_visit_id is not None:
        stmt = stmt.where(Visit.id != keep_visit_id)
    cancelled = [v for v in session.scalars(stmt) if not _contact_allowed(account, v.kind)]
    for visit in cancelled:
        visit.status = VisitStatus.CANCELLED
        visit.cancel_reason = reason
        _clear_route(visit)
        _audit(
            session,
            actor,
            "visit.cancelled",
            visit,
            {"status": ["scheduled", "cancelled"], "cancel_reason": [None, reason]},
        )
    return cancelled


# --- at the door ---------------------------------------------------------------------------


def _check_field_actor(actor: User, visit: Visit) -> None:
    """The assigned rep, or a specialist/admin on their behalf; nobody else records field work."""
    if actor.role in (Role.ADMIN, Role.SPECIALIST):
        return
    if actor.role == Role.REP and visit.assigned_rep_id == actor.id:
        return
    if actor.role == Role.MANAGER and visit.kind == VisitKind.DEALERSHIP_APPOINTMENT:
        return  # at their own lot: get_visit has already kept other lots out of scope
    if actor.role == Role.REP:
        raise NotAssignedRep("Only the rep assigned to this visit may record it.")
    raise Forbidden("Your role may not record field work.")


def check_in(
    session: Session,
    *,
    actor: User,
    visit: Visit,
    latitude: float,
    longitude: float,
    recorded_at: datetime,
    accuracy_m: float | None = None,
) -> Visit:
    """Check in at the door. Raises NotAssignedRep (403), InvalidTransition, ContactRestricted
    (409), OutsideContactHours at `recorded_at` (422) and a 422 for a future `recorded_at`."""
    _check_field_actor(actor, visit)
    _check_recorded_at(recorded_at)
    check_transition(visit, VisitStatus.CHECKED_IN)
    account = visit.account
    rules.check_contact_allowed(account.active_restrictions, visit.kind)
    rules.check_time_in_contact_hours(recorded_at, account.timezone, _policy(account))
    if account.latitude is not None and account.longitude is not None:
        visit.distance_m = round(geodesic((account.latitude, account.longitude), (latitude, longitude)).meters, 1)
        visit.on_site = visit.distance_m <= current_app.config["CHECK_IN_RADIUS_M"]
    else:
        visit.distance_m, visit.on_site = None, False
    visit.in_window = visit.window_start <= recorded_at <= visit.window_end
    visit.status = VisitStatus.CHECKED_IN
    visit.checked_in_at = recorded_at
    visit.check_in_latitude, visit.check_in_longitude, visit.check_in_accuracy_m = latitude, longitude, accuracy_m
    session.flush()
    _audit(
        session,
        actor,
        "visit.checked_in",
        visit,
        {
            "status": ["scheduled", "checked_in"],
            "latitude": [None, latitude],
            "longitude": [None, longitude],
            "accuracy_m": [None, accuracy_m],
            "distance_m": [None, visit.distance_m],
            "on_site": [None, visit.on_site],
            "recorded_at": [None, recorded_at],
        },
    )
    return visit


def _check_outcome_fields(session: Session, visit: Visit, fields: dict[str, Any]) -> None:
    code = fields["outcome"]
    if code == OutcomeCode.PAYMENT_COLLECTED and not (fields.get("amount_collected") or Decimal(0)) > 0:
        raise field_error("amount_collected", "A collected payment needs an amount above 0.")
    if code == OutcomeCode.PROMISE_TO_PAY:
        today = lot_date(session, visit.dealership_id, utcnow())
        if fields.get("promise_date") is None or fields["promise_date"] <= today:
            raise PromiseDateOutOfRange.at(
                "promise_date", f"A promise needs a date after today ({today.isoformat()}, lot time)."
            )
        if fields["promise_date"] > today + MAX_PROMISE_AHEAD:
            raise PromiseDateOutOfRange.at(
                "promise_date", "A promise more than a year ahead is not a promise: check the date."
            )
        if not (fields.get("promise_amount") or Decimal(0)) > 0:
            raise field_error("promise_amount", "A promise needs an amount above 0.")


def record_outcome(session: Session, *, actor: User, visit_id: int, fields: dict[str, Any]) -> Outcome:
    """Record what happened; the visit becomes completed. Raises NotFound, NotAssignedRep,
    OutcomeAlreadyRecorded, InvalidTransition (a PV not checked in) and 422s per field rule.
    `bankruptcy_claimed` and `dispute` set the account's restriction and cancel its open
    future visits, in this same transaction."""
    # Serialise outcomes per visit: a second writer waits on this lock, then reads (afresh, with
    # its outcome) what the first one left.
    locked = (
        select(Visit)
        .where(Visit.id == visit_id)
        .options(joinedload(Visit.outcome))  # in the same statement, not a second one
        .with_for_update(of=Visit)
        .execution_options(populate_existing=True)
    )
    visit = session.scalars(locked).first()
    if visit is None:
        raise NotFound("Visit not found.")
    ensure_visible(actor, visit.dealership_id, "Visit")
    _check_field_actor(actor, visit)
    if visit.outcome is not None:
        raise OutcomeAlreadyRecorded("This visit already has an outcome.")
    check_transition(visit, VisitStatus.COMPLETED)
    recorded_at = fields.get("recorded_at") or utcnow()
    _check_recorded_at(recorded_at)
    _check_outcome_fields(session, visit, fields)
    outcome = Outcome(
        visit_id=visit.id,
        outcome=fields["outcome"],
        amount_collected=fields.get("amount_collected"),
        payment_method=fields.get("payment_method"),
        promise_date=fields.get("promise_date"),
        promise_amount=fields.get("promise_amount"),
        notes=fields.get("notes"),
        latitude=fields.get("latitude"),
        longitude=fields.get("longitude"),
        recorded_at=recorded_at,
        recorded_by=actor.id,
    )
    session.add(outcome)
    previous_status = visit.status
    visit.status = VisitStatus.COMPLETED
    try:
        session.flush()
    except IntegrityError as exc:
        raise OutcomeAlreadyRecorded("This visit already has an outcome.") from exc
    record_audit(
        session,
        actor=actor,
        action="outcome.recorded",
        entity_type="outcome",
        entity_id=outcome.id,
        dealership_id=visit.dealership_id,
        changes=field_changes({}, {"visit_id": visit.id, **fields}),
    )
    _audit(session, actor, "visit.completed", visit, {"status": [previous_status, "completed"]})
    learn_pin_from_check_in(session, actor=actor, account=visit.account, check_in=visit, outcome=fields["outcome"])
    restriction = RESTRICTION_SET_BY_OUTCOME.get(fields["outcome"])
    if restriction is not None:
        _restrict_account_from_outcome(session, actor, visit, restriction)
    apply_outcome_consequences(session, actor=actor, visit=visit, outcome=outcome)
    return outcome


def _restrict_account_from_outcome(session: Session, actor: User, visit: Visit, restriction: str) -> None:
    account = visit.account
    if not getattr(account, restriction):
        old_note = account.restriction_note
        setattr(account, restriction, True)
        account.restriction_note = f"Set by outcome at visit {visit.id}; a specialist clears it."
        record_audit(
            session,
            actor=actor,
            action="account.restrictions_changed",
            entity_type="account",
            entity_id=account.id,
            dealership_id=account.dealership_id,
            changes={restriction: [False, True], "restriction_note": [old_note, account.restriction_note]},
        )
    cancel_open_future_visits(
        session, actor=actor, account=account, reason="contact_restricted", keep_visit_id=visit.id
    )
