from __future__ import annotations

from marshmallow import fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from field_ops.core.schemas import StrictSchema, Timestamp
from field_ops.follow_ups.models import FollowUpKind, FollowUpStatus

KINDS = [k.value for k in FollowUpKind]
STATUSES = [s.value for s in FollowUpStatus]


class FollowUpSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": KINDS})
    status = fields.String(dump_only=True, metadata={"enum": STATUSES})
    dealership_id = fields.Integer(dump_only=True)
    account_id = fields.Integer(dump_only=True)
    visit_id = fields.Integer(dump_only=True, allow_none=True)
    due_date = fields.Date(dump_only=True, metadata={"description": "The dealership-local day it is due"})
    note = fields.String(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)
    resolved_by = fields.Integer(dump_only=True, allow_none=True)


class FollowUpQuerySchema(StrictSchema):
    dealership_id = fields.Integer(strict=False)
    kind = fields.String(validate=validate.OneOf(KINDS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    account_id = fields.Integer(strict=False)


class FollowUpPatchSchema(StrictSchema):
    status = fields.String(
        required=True,
        validate=validate.OneOf([FollowUpStatus.DONE.value, FollowUpStatus.DISMISSED.value]),
        metadata={"description": "`done`, or `dismissed` with a `note` saying why"},
    )
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))

    @validates_schema
    def _dismissal_needs_a_note(self, data, **kwargs):
        if data.get("status") == FollowUpStatus.DISMISSED and not data.get("note"):
            raise ValidationError({"note": ["Say why the follow-up is dismissed."]})
