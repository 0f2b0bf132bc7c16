"""Refusals of the routing domain, each with its stable `code`."""

from __future__ import annotations

from field_ops.core.errors import Conflict, ValidationFailed


class PlanInProgress(Conflict):
    code, title = "plan_in_progress", "This lot-day is being planned right now"


class PlanStale(Conflict):
    code, title = "plan_stale", "The day changed while it was being planned"


class PlanDateInPast(ValidationFailed):
    """A day is planned only from today on, in the lot's zone."""

    title = "Date in the past"
