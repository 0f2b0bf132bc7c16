from __future__ import annotations

from flask import g, has_app_context
from marshmallow import fields, post_dump, validate

from field_ops.core.schemas import Money, StrictSchema, Timestamp
from field_ops.geocoding.schemas import located_fields

AGING_BUCKETS = ["1-30", "31-60", "61-90", "91+"]


class RestrictionsSchema(StrictSchema):
    cease_contact = fields.Boolean()
    attorney_represented = fields.Boolean()
    bankruptcy = fields.Boolean()
    do_not_visit = fields.Boolean()


class AccountSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    account_number = fields.String(required=True, validate=validate.Length(min=1, max=40))
    dealership_id = fields.Integer(required=True, strict=True)
    customer_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = fields.String(allow_none=True, metadata={"description": "Stored and returned in E.164 (+14795550123)"})
    address, latitude, longitude, timezone = located_fields()
    geocode_source = fields.String(
        dump_only=True,
        metadata={
            "description": "How the coordinates were obtained: given, geocoder, postal_code_centroid, "
            "check_in (a ZIP-centroid pin moved to where a rep checked in at the door)"
        },
    )
    days_past_due = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=100000))
    amount_due = Money(load_default=None)
    balance = Money(load_default=None)
    restrictions = fields.Nested(RestrictionsSchema, load_default=dict)
    restriction_note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)

    @post_dump
    def _without_note_for_reps(self, data: dict, **_kwargs) -> dict:
        """A rep never reads `restriction_note` (it may name a lawyer or a court case)."""
        if "restriction_note" in data:
            user = g.get("current_user") if has_app_context() else None
            if user is not None and user.role == "rep":
                del data["restriction_note"]
        return data


class AccountPatchSchema(StrictSchema):
    account_number = fields.String(validate=validate.Length(min=1, max=40))
    dealership_id = fields.Integer(strict=True)
    customer_name = fields.String(validate=validate.Length(min=1, max=200))
    phone = fields.String(allow_none=True)
    address, latitude, longitude, timezone = located_fields(patch=True)
    days_past_due = fields.Integer(strict=True, validate=validate.Range(min=0, max=100000))
    amount_due = Money()
    balance = Money()
    restrictions = fields.Nested(RestrictionsSchema)
    restriction_note = fields.String(
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "Why the restrictions change; required with any change to `restrictions`"},
    )


class AccountQuerySchema(StrictSchema):
    dealership_id = fields.Integer()
    days_past_due_min = fields.Integer(validate=validate.Range(min=0))
    days_past_due_max = fields.Integer(validate=validate.Range(min=0))
    aging_bucket = fields.String(validate=validate.OneOf(AGING_BUCKETS))
    restricted = fields.Boolean(metadata={"description": "true: any restriction set; false: none"})
    q = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Search in customer name, account number and phone"},
    )
