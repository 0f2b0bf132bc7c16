"""The postal address every located record (dealership, account) shares."""

from __future__ import annotations

from marshmallow import fields, post_load, pre_load, validate

from field_ops.core.schemas import StrictSchema

US_STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "PR",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
]


class AddressSchema(StrictSchema):
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    state = fields.String(required=True, validate=validate.OneOf(US_STATES, error="Not a US state code."))
    postal_code = fields.String(
        required=True, validate=validate.Regexp(r"^\d{5}(-\d{4})?$", error="A US ZIP code: 12345 or 12345-6789.")
    )

    @pre_load
    def _tidy(self, data, **kwargs):
        if isinstance(data, dict):
            data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
            if isinstance(data.get("state"), str):
                data["state"] = data["state"].upper()
        return data

    @post_load
    def _blank_line2(self, data, **kwargs):
        if not data.get("line2"):
            data["line2"] = None
        return data


def LatitudeField(**kwargs) -> fields.Float:  # noqa: N802
    return fields.Float(validate=validate.Range(min=-90, max=90), allow_none=True, **kwargs)


def LongitudeField(**kwargs) -> fields.Float:  # noqa: N802
    return fields.Float(validate=validate.Range(min=-180, max=180), allow_none=True, **kwargs)


def located_fields(*, patch: bool = False) -> tuple[fields.Field, ...]:
    """`address, latitude, longitude, timezone` of a located record's schema (dealership,
    account), unpacked in place so the fields keep their order in the document:
    `address, latitude, longitude, timezone = located_fields()`. A patch requires none."""
    timezone_meta = {} if patch else {"metadata": {"description": "IANA zone; derived when not given"}}
    return (
        fields.Nested(AddressSchema, required=not patch),
        LatitudeField(),
        LongitudeField(),
        fields.String(allow_none=True, **timezone_meta),
    )
