"""The contact log: texts, calls, emails and talks with customers, and what came of them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field_ops.accounts.models import Account
from field_ops.accounts.service import get_account
from field_ops.contacts.errors import FollowUpMismatch, VisitMismatch, VisitRequired
from field_ops.contacts.models import Channel, Contact, Direction, Resolution
from field_ops.core.audit import record_created
from field_ops.core.db import utcnow
from field_ops.core.errors import NotYetHappened
from field_ops.follow_ups.models import FollowUp
from field_ops.users.models import User
from field_ops.users.scope import can_see_dealership, get_scoped, scoped
from field_ops.visits import rules
from field_ops.visits.models import Visit, VisitKind

VISIT_KIND_OF_RESOLUTION = {
    Resolution.PV_BOOKED: VisitKind.PERSONAL_VISIT,
    Resolution.APPOINTMENT_SET: VisitKind.DEALERSHIP_APPOINTMENT,
}


def _check_outbound_allowed(account: Account, channel: str, at: datetime) -> None:
    """An outbound contact keeps the same guardrails as a visit: the account's restrictions and the
    contact hours in the customer's zone. `do_not_visit` bars only talking at the door."""
    kind = VisitKind.PERSONAL_VISIT if channel == Channel.IN_PERSON else VisitKind.DEALERSHIP_APPOINTMENT
    try:
        rules.check_contact_allowed(account.active_restrictions, kind)
    except rules.ContactRestricted as refusal:
        blocking = refusal.extra.get("restrictions", [])
        raise rules.ContactRestricted(
            f"The account is restricted ({', '.join(blocking)}): no outbound contact.", restrictions=blocking
        ) from None
    rules.check_time_in_contact_hours(at, account.timezone, rules.contact_policy(account.state, current_app.config))


def _check_visit(session: Session, account: Account, resolution: str, visit_id: int | None) -> None:
    wanted_kind = VISIT_KIND_OF_RESOLUTION.get(resolution)
    if visit_id is None:
        if wanted_kind is not None:
            raise VisitRequired(
                f"visit_id: a {resolution} contact names the {wanted_kind} it booked.",
                errors={"visit_id": [f"Required with resolution {resolution}."]},
            )
        return
    visit = session.get(Visit, visit_id)
    if visit is None or visit.account_id != account.id:
        raise VisitMismatch(
            f"visit_id: visit {visit_id} is not a visit of account {account.id}.",
            errors={"visit_id": [f"Not a visit of account {account.id}."]},
        )
    if wanted_kind is not None and visit.kind != wanted_kind:
        raise VisitMismatch(
            f"visit_id: {resolution} needs a {wanted_kind}; visit {visit_id} is a {visit.kind}.",
            errors={"visit_id": [f"Must be a {wanted_kind}."]},
        )


def _check_follow_up(session: Session, actor: User, account: Account, follow_up_id: int | None) -> None:
    """The follow-up a contact works on must exist, be in the caller's scope and be the account's.
    Another lot's follow-up reads as not a follow-up of the account, revealing nothing of it."""
    if follow_up_id is None:
        return
    follow_up = session.get(FollowUp, follow_up_id)
    if (
        follow_up is None
        or not can_see_dealership(actor, follow_up.dealership_id)
        or follow_up.account_id != account.id
    ):
        raise FollowUpMismatch(
            f"follow_up_id: follow-up {follow_up_id} is not a follow-up of account {account.id}.",
            errors={"follow_up_id": [f"Not a follow-up of account {account.id}."]},
        )


def record_contact(
    session: Session,
    *,
    actor: User,
    account_id: int,
    channel: str,
    direction: str,
    at: datetime,
    resolution: str,
    summary: str | None = None,
    visit_id: int | None = None,
    follow_up_id: int | None = None,
) -> Contact:
    """Log a contact. Raises NotFound (account out of scope), a 422 for `at` in the future,
    VisitRequired / VisitMismatch / FollowUpMismatch (422), and for an outbound contact ContactRestricted (409)
    and OutsideContactHours (422). An inbound contact is always recorded."""
    account = get_account(session, actor, account_id)
    if at > utcnow() + timedelta(seconds=current_app.config["RECORDED_AT_MAX_FUTURE_SECONDS"]):
        raise NotYetHappened.at("at", "Is in the future: a contact is logged once it happened.")
    _check_visit(session, account, resolution, visit_id)
    _check_follow_up(session, actor, account, follow_up_id)
    if direction == Direction.OUTBOUND:
        _check_outbound_allowed(account, channel, at)
    contact = Contact(
        account_id=account.id,
        dealership_id=account.dealership_id,
        channel=channel,
        direction=direction,
        at=at,
        summary=summary,
        resolution=resolution,
        visit_id=visit_id,
        follow_up_id=follow_up_id,
        recorded_by=actor.id,
    )
    session.add(contact)
    record_created(
        session,
        contact,
        actor=actor,
        action="contact.recorded",
        entity_type="contact",
        values={
            "account_id": account.id,
            "channel": channel,
            "direction": direction,
            "at": at,
            "summary": summary,
            "resolution": resolution,
            "visit_id": visit_id,
            "follow_up_id": follow_up_id,
        },
    )
    return contact


def get_contact(session: Session, actor: User, contact_id: int) -> Contact:
    """Raises NotFound, also for another lot's contact."""
    return get_scoped(session, Contact, contact_id, actor, "Contact")


def list_contacts_query(
    actor: User,
    *,
    account_id: int | None = None,
    dealership_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    resolution: str | None = None,
    channel: str | None = None,
    direction: str | None = None,
) -> Select:
    """Contacts in the actor's scope, newest first."""
    stmt = scoped(select(Contact), actor, Contact.dealership_id)
    for column, value in (
        (Contact.account_id, account_id),
        (Contact.dealership_id, dealership_id),
        (Contact.resolution, resolution),
        (Contact.channel, channel),
        (Contact.direction, direction),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(Contact.at >= since)
    if until is not None:
        stmt = stmt.where(Contact.at < until)
    return stmt.order_by(Contact.at.desc(), Contact.id.desc())


def list_account_contacts_query(session: Session, actor: User, account_id: int, **filters: Any) -> Select:
    """The account's contacts; raises NotFound for an account out of scope."""
    get_account(session, actor, account_id)
    return list_contacts_query(actor, account_id=account_id, **filters)
