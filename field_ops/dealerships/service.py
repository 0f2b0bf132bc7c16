"""Dealerships (lots): where reps start their day, and the scope every other record hangs on."""

from __future__ import annotations

from datetime import date, datetime
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field_ops.core.audit import AuditedUpdate, record_created
from field_ops.core.db import utcnow
from field_ops.dealerships.errors import DealershipCodeTaken
from field_ops.dealerships.models import Dealership
from field_ops.geocoding.service import locate, relocate
from field_ops.users.models import User
from field_ops.users.scope import get_scoped, scoped


def _snapshot(dealership: Dealership) -> dict[str, Any]:
    return {
        "code": dealership.code,
        "name": dealership.name,
        "address": dealership.address,
        "latitude": dealership.latitude,
        "longitude": dealership.longitude,
        "timezone": dealership.timezone,
        "geocode_source": dealership.geocode_source,
    }


def _ensure_code_free(session: Session, code: str, dealership_id: int | None = None) -> None:
    existing = session.scalar(select(Dealership.id).where(Dealership.code == code))
    if existing is not None and existing != dealership_id:
        raise DealershipCodeTaken(f"Dealership code {code} is already in use.")


def lot_date(session: Session, dealership_id: int, at: datetime | None = None) -> date:
    """The date in this lot's zone at `at` (default: now): the lot's today."""
    return session.get(Dealership, dealership_id).local_date(at)


def home_lot_today(session: Session, user: User) -> date:
    """Today in the zone of the user's (first) lot; UTC for a user of no lot. Reads the zone
    only, not the user's lots, and not even that when the request's sign-in read it."""
    ids = user.dealership_ids
    zone = None
    if ids:
        zone = user.known_zone(ids[0]) or session.scalar(select(Dealership.timezone).where(Dealership.id == ids[0]))
    return utcnow().astimezone(ZoneInfo(zone or "UTC")).date()


def get_dealership(session: Session, actor: User | None, dealership_id: int) -> Dealership:
    """Raises NotFound, also for a lot outside the actor's scope."""
    return get_scoped(session, Dealership, dealership_id, actor, "Dealership", lot_of=attrgetter("id"))


def list_dealerships_query(actor: User) -> Select:
    return scoped(select(Dealership).order_by(Dealership.code), actor, Dealership.id)


def create_dealership(session: Session, *, actor: User, **values: Any) -> Dealership:
    """Raises DealershipCodeTaken and 422 for an address that does not check out."""
    code = values["code"].upper()
    _ensure_code_free(session, code)
    dealership = Dealership(code=code, name=values["name"].strip())
    locate(dealership, values)
    session.add(dealership)
    record_created(
        session,
        dealership,
        actor=actor,
        action="dealership.created",
        entity_type="dealership",
        values=_snapshot(dealership),
        lot_of=attrgetter("id"),
    )
    return dealership


def update_dealership(session: Session, *, actor: User, dealership: Dealership, changes: dict[str, Any]) -> Dealership:
    """Raises DealershipCodeTaken and 422 for an address that does not check out."""
    audit = AuditedUpdate(dealership, _snapshot)
    if "code" in changes:
        _ensure_code_free(session, changes["code"].upper(), dealership.id)
        dealership.code = changes["code"].upper()
    if "name" in changes:
        dealership.name = changes["name"].strip()
    relocate(dealership, changes)
    audit.record(session, actor=actor, action="dealership.updated", entity_type="dealership", lot_of=attrgetter("id"))
    return dealership
