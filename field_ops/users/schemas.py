from __future__ import annotations

from marshmallow import fields, validate

from field_ops.core.schemas import StrictSchema, Timestamp
from field_ops.users.models import Role

ROLES = [role.value for role in Role]


def ShiftTime() -> fields.String:  # noqa: N802
    return fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="A time as HH:MM."),
        metadata={"description": "A rep's shift bound in the lot's zone (HH:MM); null for the default"},
    )


class MeSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    dealership_ids = fields.List(fields.Integer(), dump_only=True)


class UserCreateSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    dealership_ids = fields.List(fields.Integer(strict=True), load_default=list)
    active = fields.Boolean(load_default=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=1024))
    shift_start = ShiftTime()
    shift_end = ShiftTime()


class UserSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    dealership_ids = fields.List(fields.Integer(), dump_only=True)
    active = fields.Boolean(dump_only=True)
    shift_start = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "HH:MM; null for the default"}
    )
    shift_end = fields.String(dump_only=True, allow_none=True, metadata={"description": "HH:MM; null for the default"})
    created_at = Timestamp(dump_only=True)


class UserPatchSchema(StrictSchema):
    email = fields.Email(validate=validate.Length(max=254))
    name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=validate.OneOf(ROLES))
    dealership_ids = fields.List(fields.Integer(strict=True))
    active = fields.Boolean()
    password = fields.String(load_only=True, validate=validate.Length(min=8, max=1024))
    shift_start = ShiftTime()
    shift_end = ShiftTime()


class UserQuerySchema(StrictSchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    dealership_id = fields.Integer()
