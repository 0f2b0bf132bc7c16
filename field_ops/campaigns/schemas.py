from __future__ import annotations

from marshmallow import fields, validate

from field_ops.accounts.schemas import AGING_BUCKETS
from field_ops.core.schemas import Money, StrictSchema, Timestamp
from field_ops.visits.models import Priority

CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Must be a time of day, HH:MM.")


class SegmentSchema(StrictSchema):
    buckets = fields.List(
        fields.String(validate=validate.OneOf(AGING_BUCKETS)),
        load_default=lambda: list(AGING_BUCKETS),
        validate=validate.Length(min=1),
        metadata={"description": "Aging buckets of days past due; default all four"},
    )
    min_amount_due = Money(allow_none=True)
    min_days_past_due = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=100000))
    exclude_restricted = fields.Boolean(load_default=True)


class CampaignCreateSchema(StrictSchema):
    dealership_id = fields.Integer(required=True, strict=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    segment = fields.Nested(SegmentSchema, required=True)
    date_from = fields.Date(required=True, data_key="from", metadata={"description": "First day (lot's local date)"})
    date_to = fields.Date(required=True, data_key="to", metadata={"description": "Last day; at most 31 days in all"})
    window_start = fields.String(required=True, validate=CLOCK, metadata={"description": "HH:MM, lot's local time"})
    window_end = fields.String(required=True, validate=CLOCK, metadata={"description": "HH:MM, lot's local time"})
    max_visits_per_day = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    priority = fields.String(load_default=Priority.NORMAL.value, validate=validate.OneOf([p.value for p in Priority]))
    dry_run = fields.Boolean(load_default=False)
    partial = fields.Boolean(load_default=False)


class CampaignResultSchema(StrictSchema):
    account_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "booked or skipped"})
    visit_id = fields.Integer(dump_only=True, allow_none=True)
    date = fields.Date(dump_only=True, allow_none=True)
    code = fields.String(dump_only=True, allow_none=True, metadata={"description": "The refusal's code when skipped"})
    detail = fields.String(dump_only=True, allow_none=True)


class CampaignProgressSchema(StrictSchema):
    booked = fields.Integer(dump_only=True)
    completed = fields.Integer(dump_only=True)
    missed = fields.Integer(dump_only=True)
    cancelled = fields.Integer(dump_only=True)
    collected_amount = Money(dump_only=True)
    promises_made = fields.Integer(dump_only=True)


class CampaignSummarySchema(StrictSchema):
    id = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null on a dry run"})
    dealership_id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    segment = fields.Dict(dump_only=True)
    date_from = fields.Date(dump_only=True, data_key="from")
    date_to = fields.Date(dump_only=True, data_key="to")
    window_start = fields.String(dump_only=True)
    window_end = fields.String(dump_only=True)
    max_visits_per_day = fields.Integer(dump_only=True)
    priority = fields.String(dump_only=True)
    partial = fields.Boolean(dump_only=True)
    status = fields.String(
        dump_only=True, metadata={"description": "scheduled, in_progress, finished (lot's dates), or dry_run"}
    )
    created_by = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True, allow_none=True)
    progress = fields.Nested(CampaignProgressSchema, dump_only=True)


class CampaignSchema(CampaignSummarySchema):
    results = fields.List(fields.Nested(CampaignResultSchema), dump_only=True)


class CampaignQuerySchema(StrictSchema):
    dealership_id = fields.Integer()
