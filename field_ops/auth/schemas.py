from __future__ import annotations

from marshmallow import fields, validate

from field_ops.core.schemas import StrictSchema


class TokenRequestSchema(StrictSchema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class RefreshRequestSchema(StrictSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=512))


class LogoutRequestSchema(StrictSchema):
    refresh_token = fields.String(validate=validate.Length(min=1, max=512))


class TokenPairSchema(StrictSchema):
    access_token = fields.String(dump_only=True)
    refresh_token = fields.String(dump_only=True)
    token_type = fields.String(dump_only=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(dump_only=True, metadata={"description": "Access token lifetime in seconds"})
