"""Marshmallow pieces every domain's schemas share: strict input, money, aware timestamps."""

from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal, InvalidOperation

import marshmallow as ma
from marshmallow import fields

MONEY_PATTERN = re.compile(r"^\d{1,10}(\.\d{1,2})?$")


class StrictSchema(ma.Schema):
    """Input schema: unknown fields are refused, not ignored."""

    class Meta:
        unknown = ma.RAISE


class Money(fields.Field):
    """Money as a decimal string ("125.50"): >= 0, at most 2 decimals; a JSON number is refused."""

    default_error_messages = {
        "invalid": 'Must be a decimal string such as "125.50" (not a number), >= 0, at most 2 decimal places.',
    }

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
            raise self.make_error("invalid") from exc


class Timestamp(fields.AwareDateTime):
    """An ISO 8601 timestamp that must carry an offset; read as UTC, emitted in UTC with an offset."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error response carries them."""

    type = fields.String(metadata={"description": "URI naming the problem type"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    code = fields.String(metadata={"description": "Stable machine-readable code"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field name -> messages, for validation errors"},
    )
