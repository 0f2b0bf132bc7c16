"""Times relative to now, in a given zone, so the tests do not depend on when they run."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHICAGO = "America/Chicago"


def local(day: date, clock: str, zone: str = CHICAGO) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(zone))


def local_today(zone: str = CHICAGO) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def days_ahead(n: int, clock: str, zone: str = CHICAGO) -> datetime:
    return local(local_today(zone) + timedelta(days=n), clock, zone)


def recent_daytime(zone: str = CHICAGO) -> datetime:
    """The latest 12:00 local that is already past: a time a rep could have been at the door."""
    noon = local(local_today(zone), "12:00", zone)
    return noon if noon <= datetime.now(UTC) else noon - timedelta(days=1)


def iso(moment: datetime) -> str:
    return moment.isoformat()
