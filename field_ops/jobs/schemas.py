from __future__ import annotations

from marshmallow import fields

from field_ops.core.schemas import StrictSchema, Timestamp


class JobRunSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    job = fields.String(dump_only=True)
    dealership_id = fields.Integer(dump_only=True, allow_none=True)
    day = fields.Date(dump_only=True, allow_none=True, metadata={"description": "The lot-local day the run closed"})
    started_at = Timestamp(dump_only=True)
    finished_at = Timestamp(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"enum": ["ok", "failed"]})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)
    error = fields.String(dump_only=True, allow_none=True)


class JobRunQuerySchema(StrictSchema):
    job = fields.String()
    dealership_id = fields.Integer(strict=False)
