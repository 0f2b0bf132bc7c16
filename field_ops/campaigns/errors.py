"""Refusals of campaigns, each with its stable code."""

from __future__ import annotations

from field_ops.core.errors import ValidationFailed


class EmptySegment(ValidationFailed):
    code, title = "empty_segment", "No account matches the segment"


class CampaignFailed(ValidationFailed):
    code, title = "campaign_failed", "Some accounts cannot be booked"


class CampaignStartsInPast(ValidationFailed):
    """A campaign books from today on, lot time."""

    title = "Campaign starts in the past"
