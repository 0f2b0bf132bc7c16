"""Compliance guardrails on every contact, one small function per rule.

Each function takes plain values and either returns or raises the refusal with its stable
code. Read them against `domain.md` ("Rules the software keeps"); the citation of each rule
is in its docstring. The policy (hours, visit limits) is the federal baseline unless the
customer's state is configured as stricter (`STATE_CONTACT_RULES`), and every refusal names
the jurisdiction whose rule it applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from field_ops.visits.errors import ContactRestricted, InvalidWindow, OutsideContactHours, VisitFrequencyLimit

FEDERAL = "federal"
FEDERAL_HOURS_CITATION = "FDCPA 15 U.S.C. 1692c(a)(1); 12 CFR 1006.6(b)(1)(i)"
FEDERAL_FREQUENCY_CITATION = "In the spirit of 12 CFR 1006.14(b)(2) (Regulation F 7-in-7)"
MAX_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class ContactPolicy:
    jurisdiction: str
    hours_start: time
    hours_end: time
    max_visits: int
    window_days: int
    hours_citation: str
    frequency_citation: str

    def describe(self, citation: str) -> dict[str, Any]:
        return {"rule": {"jurisdiction": self.jurisdiction, "citation": citation}}


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def contact_policy(state: str | None, config: dict[str, Any]) -> ContactPolicy:
    """The rules for a customer living in `state`: the baseline, overridden by a stricter state's."""
    override = (config.get("STATE_CONTACT_RULES") or {}).get((state or "").upper())
    baseline = ContactPolicy(
        jurisdiction=FEDERAL,
        hours_start=_clock(config["CONTACT_HOURS_START"]),
        hours_end=_clock(config["CONTACT_HOURS_END"]),
        max_visits=int(config["VISIT_FREQUENCY_LIMIT"]),
        window_days=int(config["VISIT_FREQUENCY_WINDOW_DAYS"]),
        hours_citation=FEDERAL_HOURS_CITATION,
        frequency_citation=FEDERAL_FREQUENCY_CITATION,
    )
    if not override:
        return baseline
    citation = override.get("citation", state)
    return ContactPolicy(
        jurisdiction=str(state).upper(),
        hours_start=_clock(override["contact_hours_start"])
        if "contact_hours_start" in override
        else baseline.hours_start,
        hours_end=_clock(override["contact_hours_end"]) if "contact_hours_end" in override else baseline.hours_end,
        max_visits=int(override.get("max_visits", baseline.max_visits)),
        window_days=int(override.get("window_days", baseline.window_days)),
        hours_citation=citation,
        frequency_citation=citation,
    )


def check_window_shape(window_start: datetime, window_end: datetime, now: datetime) -> None:
    """A window ends after it starts, lasts at most one day, and is not over already."""
    if window_end <= window_start:
        raise InvalidWindow(
            "window_end must be after window_start.", errors={"window_end": ["Must be after window_start."]}
        )
    if window_end - window_start > MAX_WINDOW:
        raise InvalidWindow(
            "A visit window lasts at most one day.", errors={"window_end": ["At most one day after window_start."]}
        )
    if window_end <= now:
        raise InvalidWindow("The window is in the past.", errors={"window_end": ["The window is already over."]})


def contact_hours_on(moment: datetime, customer_zone: str, policy: ContactPolicy) -> tuple[datetime, datetime]:
    """When contact opens and closes, in the customer's zone, on the local day of `moment`."""
    zone = ZoneInfo(customer_zone)
    day = moment.astimezone(zone).date()
    return (
        datetime.combine(day, policy.hours_start, tzinfo=zone),
        datetime.combine(day, policy.hours_end, tzinfo=zone),
    )


def check_window_in_contact_hours(
    window_start: datetime,
    window_end: datetime,
    customer_zone: str,
    policy: ContactPolicy,
    duration: timedelta = timedelta(0),
) -> None:
    """FDCPA 15 U.S.C. 1692c(a)(1): no contact before 8 a.m. or after 9 p.m. at the consumer's location.

    The whole window must lie inside the hours on one local day, judged in the customer's
    zone (not the server's or the lot's), with the zone's own offset on that date (DST); and
    a visit begun at the window's start must be over by closing time.
    """
    zone = ZoneInfo(customer_zone)
    local_start, local_end = window_start.astimezone(zone), window_end.astimezone(zone)
    opens, closes = contact_hours_on(window_start, customer_zone, policy)
    if local_start < opens or local_end > closes or local_start + duration > closes:
        overrun = f" (a {duration.seconds // 60}-minute visit must end by then)" if local_end <= closes else ""
        raise OutsideContactHours(
            f"The window {local_start:%Y-%m-%d %H:%M}-{local_end:%H:%M} ({customer_zone}) is outside contact hours "
            f"{policy.hours_start:%H:%M}-{policy.hours_end:%H:%M} in the customer's zone{overrun} "
            f"({policy.jurisdiction} rule).",
            **policy.describe(policy.hours_citation),
        )


def check_time_in_contact_hours(at: datetime, customer_zone: str, policy: ContactPolicy) -> None:
    """FDCPA 15 U.S.C. 1692c(a)(1), at the moment of contact (check-in at the door)."""
    local = at.astimezone(ZoneInfo(customer_zone))
    if not (policy.hours_start <= local.time().replace(tzinfo=None) <= policy.hours_end):
        raise OutsideContactHours(
            f"{local:%Y-%m-%d %H:%M} ({customer_zone}) is outside contact hours "
            f"{policy.hours_start:%H:%M}-{policy.hours_end:%H:%M} in the customer's zone ({policy.jurisdiction} rule).",
            **policy.describe(policy.hours_citation),
        )


def check_contact_allowed(restrictions: Iterable[str], kind: str) -> None:
    """No visit while the account carries a contact restriction (domain rule 2).

    cease_contact: FDCPA 1692c(c); attorney_represented: 1692c(a)(2); bankruptcy: the
    automatic stay, 11 U.S.C. 362(a)(6); do_not_visit: the account's own instruction, which
    bars home visits but not the customer coming to the lot.
    """
    blocking = [name for name in restrictions if not (name == "do_not_visit" and kind == "dealership_appointment")]
    if blocking:
        raise ContactRestricted(
            f"The account is restricted ({', '.join(blocking)}): no visit may be booked or started.",
            restrictions=blocking,
        )


def exceeds_visit_frequency(
    existing_starts: Iterable[datetime], new_start: datetime, max_visits: int, window: timedelta
) -> bool:
    """True when adding a visit at `new_start` puts more than `max_visits` in some rolling `window`.

    Only windows that contain the new visit can change, so it is enough to slide a window over
    the visits near it.
    """
    nearby = sorted([s for s in existing_starts if abs(s - new_start) < window] + [new_start])
    for i, first in enumerate(nearby):
        in_window = [s for s in nearby[i:] if s - first < window]
        if new_start in in_window and len(in_window) > max_visits:
            return True
    return False


def check_visit_frequency(existing_starts: Iterable[datetime], new_start: datetime, policy: ContactPolicy) -> None:
    """At most N attempted visits per account in any rolling period (default 3 in 7 days).

    Attempted visits are the account's visits in any status but cancelled.
    """
    if exceeds_visit_frequency(existing_starts, new_start, policy.max_visits, timedelta(days=policy.window_days)):
        raise VisitFrequencyLimit(
            f"The account would have more than {policy.max_visits} visit(s) in {policy.window_days} days "
            f"({policy.jurisdiction} rule).",
            **policy.describe(policy.frequency_citation),
        )
