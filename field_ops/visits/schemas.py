from __future__ import annotations

from marshmallow import fields, validate

from field_ops.core.schemas import Money, StrictSchema, Timestamp
from field_ops.visits.models import OutcomeCode, Priority, VisitKind, VisitStatus

KINDS = [k.value for k in VisitKind]
STATUSES = [s.value for s in VisitStatus]
PRIORITIES = [p.value for p in Priority]
OUTCOMES = [o.value for o in OutcomeCode]
PAYMENT_METHODS = ["cash", "card", "check", "money_order", "ach", "other"]


class VisitCreateSchema(StrictSchema):
    account_id = fields.Integer(required=True, strict=True)
    kind = fields.String(load_default=VisitKind.PERSONAL_VISIT.value, validate=validate.OneOf(KINDS))
    window_start = Timestamp(required=True)
    window_end = Timestamp(required=True)
    duration_minutes = fields.Integer(strict=True, load_default=15, validate=validate.Range(min=5, max=480))
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))
    priority = fields.String(load_default=Priority.NORMAL.value, validate=validate.OneOf(PRIORITIES))
    assigned_rep_id = fields.Integer(strict=True, allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=4000))
    follow_up_id = fields.Integer(strict=True, allow_none=True)


class VisitPatchSchema(StrictSchema):
    window_start = Timestamp()
    window_end = Timestamp()
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=5, max=480))
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    assigned_rep_id = fields.Integer(strict=True, allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=4000))
    status = fields.String(
        validate=validate.OneOf(STATUSES), metadata={"description": "Only `cancelled` (with `cancel_reason`)"}
    )
    cancel_reason = fields.String(validate=validate.Length(min=1, max=500))


class OutcomeSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    visit_id = fields.Integer(dump_only=True)
    outcome = fields.String(dump_only=True)
    amount_collected = Money(dump_only=True, allow_none=True)
    payment_method = fields.String(dump_only=True, allow_none=True)
    promise_date = fields.Date(dump_only=True, allow_none=True)
    promise_amount = Money(dump_only=True, allow_none=True)
    notes = fields.String(dump_only=True, allow_none=True)
    latitude = fields.Float(dump_only=True, allow_none=True)
    longitude = fields.Float(dump_only=True, allow_none=True)
    recorded_at = Timestamp(dump_only=True)
    recorded_by = fields.Integer(dump_only=True)
    created_at = Timestamp(dump_only=True)


class CheckInRecordSchema(StrictSchema):
    at = Timestamp(dump_only=True)
    latitude = fields.Float(dump_only=True)
    longitude = fields.Float(dump_only=True)
    accuracy_m = fields.Float(dump_only=True, allow_none=True)
    distance_m = fields.Float(dump_only=True, allow_none=True)
    on_site = fields.Boolean(dump_only=True, allow_none=True)
    in_window = fields.Boolean(dump_only=True, allow_none=True)


class VisitSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    account_id = fields.Integer(dump_only=True)
    dealership_id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    scheduled_date = fields.Date(dump_only=True, metadata={"description": "The dealership-local date of the window"})
    window_start = Timestamp(dump_only=True)
    window_end = Timestamp(dump_only=True)
    duration_minutes = fields.Integer(dump_only=True)
    priority = fields.String(dump_only=True)
    reason = fields.String(dump_only=True, allow_none=True)
    notes = fields.String(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True)
    cancel_reason = fields.String(dump_only=True, allow_none=True)
    assigned_rep_id = fields.Integer(dump_only=True, allow_none=True)
    route_id = fields.Integer(dump_only=True, allow_none=True)
    sequence = fields.Integer(dump_only=True, allow_none=True)
    eta = Timestamp(dump_only=True, allow_none=True)
    follow_up_id = fields.Integer(dump_only=True, allow_none=True)
    booked_by = fields.Integer(dump_only=True, allow_none=True)
    checked_in_at = Timestamp(dump_only=True, allow_none=True)
    distance_m = fields.Float(dump_only=True, allow_none=True)
    on_site = fields.Boolean(dump_only=True, allow_none=True)
    in_window = fields.Boolean(dump_only=True, allow_none=True)
    check_in = fields.Nested(
        CheckInRecordSchema, dump_only=True, allow_none=True, metadata={"description": "null before check-in"}
    )
    outcome = fields.Nested(
        OutcomeSchema, dump_only=True, allow_none=True, metadata={"description": "null until recorded"}
    )
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class VisitQuerySchema(StrictSchema):
    date = fields.Date(metadata={"description": "Dealership-local date (YYYY-MM-DD)"})
    dealership_id = fields.Integer()
    rep_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(STATUSES))
    account_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(KINDS))


class CheckInSchema(StrictSchema):
    latitude = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = fields.Float(allow_none=True, validate=validate.Range(min=0, max=100000))
    recorded_at = Timestamp(required=True)


class OutcomeFieldsSchema(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    amount_collected = Money(allow_none=True)
    payment_method = fields.String(allow_none=True, validate=validate.OneOf(PAYMENT_METHODS))
    promise_date = fields.Date(allow_none=True)
    promise_amount = Money(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=4000))
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    recorded_at = Timestamp(allow_none=True, metadata={"description": "When it happened at the door; default now"})


class OutcomeBatchItemSchema(OutcomeFieldsSchema):
    visit_id = fields.Integer(required=True, strict=True)
    idempotency_key = fields.String(required=True, validate=validate.Length(min=1, max=255))


class OutcomeBatchSchema(StrictSchema):
    items = fields.List(
        fields.Dict(),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Up to 100 items shaped as OutcomeBatchItem; each is validated on its own"},
    )


class OutcomeBatchResultSchema(StrictSchema):
    visit_id = fields.Raw(dump_only=True)
    idempotency_key = fields.Raw(dump_only=True)
    status = fields.Integer(dump_only=True)
    body = fields.Dict(dump_only=True, metadata={"description": "The outcome, or a problem+json body"})


class OutcomeBatchResponseSchema(StrictSchema):
    results = fields.List(fields.Nested(OutcomeBatchResultSchema), dump_only=True)
