from __future__ import annotations

from marshmallow import fields, validate

from field_ops.core.schemas import Money, StrictSchema, Timestamp


class ScheduleFileQuerySchema(StrictSchema):
    dealership_id = fields.Integer(metadata={"description": "Omit for every lot in the caller's scope"})


class ScheduleQuerySchema(ScheduleFileQuerySchema):
    format = fields.String(validate=validate.OneOf(["json", "csv", "xlsx"]), load_default=None)


class PublishQuerySchema(StrictSchema):
    dealership_id = fields.Integer(required=True)


class ImportQuerySchema(StrictSchema):
    dealership_id = fields.Integer(required=True)
    dry_run = fields.Boolean(load_default=False)
    partial = fields.Boolean(load_default=False)
    date = fields.Date(metadata={"description": "The day of rows without a date (a day's sheet with no Date column)"})


class ImportFileSchema(StrictSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class ScheduleRowSchema(StrictSchema):
    visit_id = fields.Integer(dump_only=True)
    date = fields.Date(dump_only=True)
    dealership_id = fields.Integer(dump_only=True)
    dealership_code = fields.String(dump_only=True)
    rep_id = fields.Integer(dump_only=True, allow_none=True)
    rep_name = fields.String(dump_only=True, allow_none=True)
    stop_number = fields.Integer(dump_only=True, allow_none=True)
    window_start = fields.AwareDateTime(dump_only=True, format="iso", metadata={"description": "In the lot's zone"})
    window_end = fields.AwareDateTime(dump_only=True, format="iso")
    eta = fields.AwareDateTime(dump_only=True, format="iso", allow_none=True)
    customer_name = fields.String(dump_only=True)
    account_number = fields.String(dump_only=True)
    address = fields.String(dump_only=True)
    phone = fields.String(dump_only=True, allow_none=True)
    days_past_due = fields.Integer(dump_only=True)
    amount_due = Money(dump_only=True)
    kind = fields.String(dump_only=True)
    reason = fields.String(dump_only=True, allow_none=True)
    priority = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    outcome = fields.String(dump_only=True, allow_none=True)
    booked_by = fields.String(dump_only=True, allow_none=True)
    notes = fields.String(dump_only=True, allow_none=True)
    amount_collected = Money(dump_only=True, allow_none=True, metadata={"description": "What the outcome recorded"})
    promise_date = fields.Date(dump_only=True, allow_none=True)
    promise_amount = Money(dump_only=True, allow_none=True)


class LotPublicationSchema(StrictSchema):
    dealership_id = fields.Integer(dump_only=True)
    version = fields.Integer(dump_only=True)
    published_at = Timestamp(dump_only=True, allow_none=True)
    changed_since_publish = fields.Boolean(dump_only=True, allow_none=True)


class ScheduleSchema(StrictSchema):
    date = fields.Date(dump_only=True)
    dealership_id = fields.Integer(dump_only=True, allow_none=True)
    published_at = Timestamp(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True, metadata={"description": "0 until first published"})
    changed_since_publish = fields.Boolean(
        dump_only=True, allow_none=True, metadata={"description": "null when never published"}
    )
    lots = fields.List(fields.Nested(LotPublicationSchema), dump_only=True, metadata={"description": "Per lot"})
    rows = fields.List(fields.Nested(ScheduleRowSchema), dump_only=True)


class ImportRowSchema(StrictSchema):
    row = fields.Integer(dump_only=True, metadata={"description": "Row number in the file (the header is row 1)"})
    status = fields.String(
        dump_only=True,
        metadata={"description": "valid, created, duplicate, error, or skipped (a cancelled or missed row)"},
    )
    visit_id = fields.Integer(dump_only=True, allow_none=True)
    code = fields.String(dump_only=True, metadata={"optional": True, "description": "A failing row's code"})
    errors = fields.Dict(dump_only=True, allow_none=True)
    customer_name = fields.String(dump_only=True, metadata={"description": "The account's customer, as on file"})
    account_number = fields.String(dump_only=True)
    date = fields.String(dump_only=True, metadata={"description": "YYYY-MM-DD, the visit's day at the lot"})
    window_start = fields.String(dump_only=True, metadata={"description": "ISO 8601 in the lot's zone"})
    window_end = fields.String(dump_only=True, metadata={"description": "ISO 8601 in the lot's zone"})
    rep_id = fields.Integer(dump_only=True)
    rep_name = fields.String(dump_only=True)


class ImportResultSchema(StrictSchema):
    dry_run = fields.Boolean(dump_only=True)
    created = fields.Integer(dump_only=True, metadata={"description": "Visits written"})
    valid = fields.Integer(
        dump_only=True, metadata={"description": "Rows that would be created (dry run, or held back)"}
    )
    failed = fields.Integer(dump_only=True)
    rows = fields.List(fields.Nested(ImportRowSchema), dump_only=True)


class CalendarTokenSchema(StrictSchema):
    token = fields.String(dump_only=True)
    url = fields.String(dump_only=True)
