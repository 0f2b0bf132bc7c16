from __future__ import annotations

from marshmallow import fields, validate

from field_ops.core.schemas import StrictSchema, Timestamp
from field_ops.geocoding.schemas import located_fields


class DealershipSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{2,20}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    address, latitude, longitude, timezone = located_fields()
    geocode_source = fields.String(
        dump_only=True,
        metadata={"description": "How the coordinates were obtained: given, geocoder, postal_code_centroid"},
    )
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)


class DealershipPatchSchema(StrictSchema):
    code = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{2,20}$"))
    name = fields.String(validate=validate.Length(min=1, max=200))
    address, latitude, longitude, timezone = located_fields(patch=True)
