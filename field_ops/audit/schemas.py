from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from field_ops.core.schemas import StrictSchema, Timestamp

ENTITY_TYPES = [
    "user", "dealership", "account", "visit", "outcome", "route", "schedule", "lot_issue", "follow_up",
    "promise", "payment", "contact", "campaign",
]  # fmt: skip


class AuditQuerySchema(StrictSchema):
    entity_type = fields.String(validate=validate.OneOf(ENTITY_TYPES))
    entity_id = fields.Integer()
    actor_id = fields.Integer(metadata={"description": "Only what this user did"})
    action = fields.String(
        validate=validate.Length(min=1, max=60), metadata={"description": "An exact action, e.g. `visit.cancelled`"}
    )
    since = Timestamp(metadata={"description": "Only entries at or after this time (with offset)"})
    until = Timestamp(metadata={"description": "Only entries before this time (with offset)"})

    @validates_schema
    def _since_before_until(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError("Must be after `since`.", "until")


class AuditEntrySchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    at = Timestamp(dump_only=True)
    actor_id = fields.Integer(dump_only=True, allow_none=True)
    action = fields.String(dump_only=True)
    entity_type = fields.String(dump_only=True)
    entity_id = fields.Integer(dump_only=True)
    dealership_id = fields.Integer(dump_only=True, allow_none=True)
    changes = fields.Dict(dump_only=True)
