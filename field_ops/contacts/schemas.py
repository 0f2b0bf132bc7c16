from __future__ import annotations

from marshmallow import fields, validate

from field_ops.contacts.models import Channel, Direction, Resolution
from field_ops.core.schemas import StrictSchema, Timestamp

CHANNELS = [c.value for c in Channel]
DIRECTIONS = [d.value for d in Direction]
RESOLUTIONS = [r.value for r in Resolution]


class ContactCreateSchema(StrictSchema):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    at = Timestamp(required=True, metadata={"description": "When the contact happened (not in the future)"})
    summary = fields.String(allow_none=True, validate=validate.Length(max=4000))
    resolution = fields.String(required=True, validate=validate.OneOf(RESOLUTIONS))
    visit_id = fields.Integer(
        strict=True,
        allow_none=True,
        metadata={"description": "The visit booked; required for pv_booked and appointment_set"},
    )
    follow_up_id = fields.Integer(strict=True, allow_none=True)


class ContactSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    account_id = fields.Integer(dump_only=True)
    dealership_id = fields.Integer(dump_only=True)
    channel = fields.String(dump_only=True)
    direction = fields.String(dump_only=True)
    at = Timestamp(dump_only=True)
    summary = fields.String(dump_only=True, allow_none=True)
    resolution = fields.String(dump_only=True)
    visit_id = fields.Integer(dump_only=True, allow_none=True)
    follow_up_id = fields.Integer(dump_only=True, allow_none=True)
    recorded_by = fields.Integer(dump_only=True)
    created_at = Timestamp(dump_only=True)


class AccountContactQuerySchema(StrictSchema):
    since = Timestamp(metadata={"description": "Contacts at or after this time (with offset)"})
    until = Timestamp(metadata={"description": "Contacts before this time (with offset)"})
    resolution = fields.String(validate=validate.OneOf(RESOLUTIONS))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))


class ContactQuerySchema(AccountContactQuerySchema):
    dealership_id = fields.Integer()
