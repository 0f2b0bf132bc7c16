from __future__ import annotations

from marshmallow import fields, validate

from field_ops.core.schemas import StrictSchema, Timestamp

ENTITY_TYPES = [
    "user",
    "dealership",
    "account",
    "visit",
    "outcome",
    "route",
    "schedule",
    "lot_issue",
    "follow_up",
    "contact",
    "campaign",
]


class AuditQuerySchema(StrictSchema):
    entity_type = fields.String(validate=validate.OneOf(ENTITY_TYPES))
    entity_id = fields.Integer()
    since = Timestamp(metadata={"description": "Only entries at or after this time (with offset)"})


class AuditEntrySchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    at = Timestamp(dump_only=True)
    actor_id = fields.Integer(dump_only=True, allow_none=True)
    action = fields.String(dump_only=True)
    entity_type = fields.String(dump_only=True)
    entity_id = fields.Integer(dump_only=True)
    dealership_id = fields.Integer(dump_only=True, allow_none=True)
    changes = fields.Dict(dump_only=True)
