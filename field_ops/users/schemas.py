from __future__ import annotations

from marshmallow import fields, validate

from field_ops.core.schemas import StrictSchema, Timestamp
from field_ops.users.models import Role

ROLES = [role.value for role in Role]


class MeSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    dealership_ids = fields.List(fields.Integer(), dump_only=True)


class UserSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    dealership_ids = fields.List(fields.Integer(strict=True), load_default=list)
    active = fields.Boolean(load_default=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=1024))
    created_at = Timestamp(dump_only=True)


class UserPatchSchema(StrictSchema):
    email = fields.Email(validate=validate.Length(max=254))
    name = fields.String(validate=validate.Length(min=1, max=200))
    role = fields.String(validate=validate.OneOf(ROLES))
    dealership_ids = fields.List(fields.Integer(strict=True))
    active = fields.Boolean()
    password = fields.String(load_only=True, validate=validate.Length(min=8, max=1024))


class UserQuerySchema(StrictSchema):
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()
    dealership_id = fields.Integer()
