"""Marshmallow pieces every domain's schemas share: strict input, money, aware timestamps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from decimal import Decimal, InvalidOperation

import marshmallow as ma
from marshmallow import fields

from field_ops.core.dumping import CompiledDump

MONEY_PATTERN = re.compile(r"^\d{1,10}(\.\d{1,2})?$")


DB_INT_MAX = 2**31 - 1


class StrictSchema(CompiledDump, ma.Schema):
    """Input schema: unknown fields are refused, not ignored; text is trimmed and may not hold
    NUL bytes; integers fit the database's integer column. Dumps through a compiled plan (see
    field_ops.core.dumping)."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _tidy_text(self, data, **kwargs):
        if not isinstance(data, Mapping):
            return data
        errors = {key: ["May not contain NUL characters."] for key, value in data.items() if "\x00" in str(value)}
        if errors:
            raise ma.ValidationError(errors)
        if not isinstance(data, dict):
            return data  # query arguments: a multi-dict that webargs unpacks itself
        return {
            key: value.strip() if isinstance(value, str) and "password" not in str(key) else value
            for key, value in data.items()
        }

    @ma.post_load
    def _check_integer_range(self, data, **kwargs):
        errors = {
            key: [f"Must be between {-DB_INT_MAX} and {DB_INT_MAX}."]
            for key, value in data.items()
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > DB_INT_MAX
        }
        if errors:
            raise ma.ValidationError(errors)
        return data


class Money(fields.Field):
    """Money as a decimal string ("125.50"): >= 0, at most 2 decimals; a JSON number is refused."""

    default_error_messages = {
        "invalid": 'Must be a decimal string such as "125.50" (not a number), >= 0, at most 2 decimal places.',
    }

    def __init__(self, **kwargs) -> None:
        # Documented as `type: string, format: decimal` (registered in field_ops.core.api) with this pattern.
        kwargs["metadata"] = {"pattern": MONEY_PATTERN.pattern, "example": "125.50", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return f"{Decimal(value).quantize(Decimal('0.01'))}"

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not MONEY_PATTERN.match(value.strip()):
            raise self.make_error("invalid")
        try:
            return Decimal(value.strip())
        except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
            raise self.make_error("out_of_range") from exc


class Timestamp(fields.AwareDateTime):
    """An ISO 8601 timestamp that must carry an offset; read as UTC, emitted in UTC with an offset."""

    default_error_messages = {"out_of_range": "Is out of the supported date range."}
    _serialize_in_utc = True  # field_ops.core.dumping converts it inline

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise self.make_error("out_of_range") from exc

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error response carries them."""

    type = fields.String(required=True, metadata={"description": "URI naming the problem type"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field name -> messages, for validation errors"},
    )
