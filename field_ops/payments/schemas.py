from __future__ import annotations

from marshmallow import fields, validate

from field_ops.core.schemas import Money, StrictSchema, Timestamp
from field_ops.payments.models import PaymentMethod, PromiseStatus

METHODS = [m.value for m in PaymentMethod]
PROMISE_STATUSES = [s.value for s in PromiseStatus]


class PaymentCreateSchema(StrictSchema):
    amount = Money(required=True, metadata={"description": 'A decimal string above 0, e.g. "125.50"'})
    paid_on = fields.Date(required=True, metadata={"description": "The dealership-local day; not after today"})
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    reference = fields.String(allow_none=True, validate=validate.Length(max=200))
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))


class PaymentSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    account_id = fields.Integer(dump_only=True)
    dealership_id = fields.Integer(dump_only=True)
    amount = Money(dump_only=True)
    paid_on = fields.Date(dump_only=True)
    method = fields.String(dump_only=True)
    reference = fields.String(dump_only=True, allow_none=True)
    note = fields.String(dump_only=True, allow_none=True)
    visit_id = fields.Integer(dump_only=True, allow_none=True)
    recorded_by = fields.Integer(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class PromiseSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    account_id = fields.Integer(dump_only=True)
    dealership_id = fields.Integer(dump_only=True)
    visit_id = fields.Integer(dump_only=True, allow_none=True)
    outcome_id = fields.Integer(dump_only=True, allow_none=True)
    promise_date = fields.Date(dump_only=True)
    promise_amount = Money(dump_only=True)
    paid_amount = Money(dump_only=True, metadata={"description": "Payments from the day it was made through its date"})
    status = fields.String(dump_only=True, metadata={"enum": PROMISE_STATUSES})
    kept_at = Timestamp(dump_only=True, allow_none=True)
    broken_at = Timestamp(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)


class PromiseQuerySchema(StrictSchema):
    dealership_id = fields.Integer(strict=False)
    account_id = fields.Integer(strict=False)
    status = fields.String(validate=validate.OneOf(PROMISE_STATUSES))
    due_from = fields.Date()
    due_to = fields.Date()
