"""Refusals of the contact log, each with its stable code."""

from __future__ import annotations

from field_ops.core.errors import ValidationFailed


class VisitRequired(ValidationFailed):
    code, title = "visit_required", "The resolution needs the visit it booked"


class VisitMismatch(ValidationFailed):
    code, title = "visit_mismatch", "The visit does not fit this contact"


class FollowUpMismatch(ValidationFailed):
    code, title = "follow_up_mismatch", "The follow-up does not fit this contact"
