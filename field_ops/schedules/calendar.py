"""A rep's visits as an RFC 5545 feed their phone's calendar subscribes to.

The token in the feed's URL is long and random. The database keeps only its SHA-256 and a
random salt; the token itself is an HMAC of the salt under SECRET_KEY, so it can be shown
again to its rep but not read out of a stolen database. Rotating draws a new salt: the old
URL is dead at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from field_ops.accounts.models import Account
from field_ops.core.db import utcnow
from field_ops.core.digest import sha256_hex
from field_ops.core.errors import NotFound
from field_ops.dealerships.service import home_lot_today
from field_ops.schedules.models import CalendarToken
from field_ops.schedules.service import one_line_address
from field_ops.users.models import User
from field_ops.users.scope import in_scope
from field_ops.visits.models import Visit, VisitStatus

DAYS_BACK, DAYS_AHEAD = 7, 14


def _token_for(user_id: int, salt: str) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"calendar:{user_id}:{salt}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def _issue(session: Session, user: User, row: CalendarToken | None) -> str:
    salt = secrets.token_hex(32)
    token = _token_for(user.id, salt)
    if row is None:
        row = CalendarToken(user_id=user.id, salt=salt, token_hash=sha256_hex(token))
        session.add(row)
    else:
        row.salt, row.token_hash, row.created_at = salt, sha256_hex(token), utcnow()
    session.flush()
    return token


def get_calendar_token(session: Session, user: User) -> str:
    """The rep's current token, made on first use."""
    row = session.scalar(select(CalendarToken).where(CalendarToken.user_id == user.id))
    if row is None:
        return _issue(session, user, None)
    return _token_for(user.id, row.salt)


def rotate_calendar_token(session: Session, user: User) -> str:
    row = session.scalar(select(CalendarToken).where(CalendarToken.user_id == user.id).with_for_update())
    return _issue(session, user, row)


def calendar_owner(session: Session, token: str) -> User:
    """Raises NotFound for an unknown or rotated token, or a deactivated rep."""
    row = session.scalar(select(CalendarToken).where(CalendarToken.token_hash == sha256_hex(token)))
    user = session.get(User, row.user_id) if row else None
    if user is None or not user.active:
        raise NotFound("No such calendar.")
    return user


def rep_calendar(session: Session, user: User) -> bytes:
    """One VEVENT per visit from 7 days back to 14 ahead; cancelled ones stay, marked CANCELLED,
    so subscribed phones remove them."""
    today = home_lot_today(session, user)
    visits = session.execute(
        select(Visit, Account)
        .join(Account, Visit.account_id == Account.id)
        .where(
            Visit.assigned_rep_id == user.id,
            in_scope(user, Visit.dealership_id),
            Visit.scheduled_date >= today - timedelta(days=DAYS_BACK),
            Visit.scheduled_date <= today + timedelta(days=DAYS_AHEAD),
        )
        .order_by(Visit.window_start)
    ).all()
    calendar = Calendar()
    calendar.add("prodid", "-//Field Ops//Visits//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Field Ops visits - {user.name}")
    domain = current_app.config["CALENDAR_UID_DOMAIN"]
    for visit, account in visits:
        event = Event()
        event.add("uid", f"visit-{visit.id}@{domain}")
        # The feed only changes when a visit does, so its ETag lets phones poll for free.
        event.add("dtstamp", visit.updated_at)
        if visit.eta is not None:
            event.add("dtstart", visit.eta)
            event.add("dtend", visit.eta + timedelta(minutes=visit.duration_minutes))
        else:
            event.add("dtstart", visit.window_start)
            event.add("dtend", visit.window_end)
        kind = "Visit" if visit.kind == "personal_visit" else "Appointment at the lot"
        event.add("summary", f"{kind}: {account.customer_name}")
        address = one_line_address(account)
        event.add("location", address)
        if account.latitude is not None and account.longitude is not None:
            event.add("geo", (account.latitude, account.longitude))
        map_link = (
            f"https://www.google.com/maps/search/?api=1&query={account.latitude},{account.longitude}"
            if account.latitude is not None
            else None
        )
        lines = [
            f"Account {account.account_number}",
            f"Phone: {account.phone or 'none on file'}",
            f"Amount due: ${account.amount_due:.2f} ({account.days_past_due} days past due)",
            f"Window: {visit.window_start.astimezone(ZoneInfo(account.timezone)):%H:%M}-"
            f"{visit.window_end.astimezone(ZoneInfo(account.timezone)):%H:%M} customer time",
        ]
        if visit.reason:
            lines.append(f"Reason: {visit.reason}")
        if visit.notes:
            lines.append(f"Notes: {visit.notes}")
        if map_link:
            lines.append(f"Map: {map_link}")
            event.add("url", map_link)
        event.add("description", "\n".join(lines))
        event.add("status", "CANCELLED" if visit.status == VisitStatus.CANCELLED else "CONFIRMED")
        # SEQUENCE must grow with every change and fit RFC 5545's 32-bit integer: the seconds
        # from booking to the last change do (for 68 years of one visit's life).
        event.add("sequence", max(0, int((visit.updated_at - visit.created_at).total_seconds())))
        event.add("last-modified", visit.updated_at)
        calendar.add_component(event)
    return calendar.to_ical()
