"""Refusals of the visits domain, each with its stable `code`."""

from __future__ import annotations

from field_ops.core.errors import Conflict, Forbidden, ValidationFailed


class OutcomeAlreadyRecorded(Conflict):
    code, title = "outcome_already_recorded", "Outcome already recorded"


class NotAssignedRep(Forbidden):
    code, title = "not_assigned_rep", "Not the assigned rep"


class OutsideContactHours(ValidationFailed):
    code, title = "outside_contact_hours", "Outside contact hours"


class ContactRestricted(Conflict):
    code, title = "contact_restricted", "Contact restricted"


class VisitFrequencyLimit(Conflict):
    code, title = "visit_frequency_limit", "Visit frequency limit reached"


class InvalidWindow(ValidationFailed):
    code, title = "invalid_window", "Invalid visit window"


class PromiseDateOutOfRange(ValidationFailed):
    """A promise to pay falls after today and within a year, lot time."""

    title = "Promise date out of range"
