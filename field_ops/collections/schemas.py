from __future__ import annotations

from marshmallow import fields

from field_ops.core.schemas import Money, StrictSchema


class SummaryQuerySchema(StrictSchema):
    date_from = fields.Date(
        required=True, data_key="from", metadata={"description": "First date (the lot's local date), inclusive"}
    )
    date_to = fields.Date(
        required=True, data_key="to", metadata={"description": "Last date, inclusive; at most 366 days in all"}
    )


class VisitFiguresSchema(StrictSchema):
    booked = fields.Integer(dump_only=True, metadata={"description": "Visits scheduled in the range, in any status"})
    completed = fields.Integer(dump_only=True)
    missed = fields.Integer(dump_only=True)
    cancelled = fields.Integer(dump_only=True)


class CheckInFiguresSchema(StrictSchema):
    on_site = fields.Integer(
        dump_only=True, metadata={"description": "Check-ins within the check-in radius of the address"}
    )
    off_site = fields.Integer(dump_only=True)


class PromiseFiguresSchema(StrictSchema):
    made = fields.Integer(dump_only=True)
    kept = fields.Integer(dump_only=True)
    broken = fields.Integer(dump_only=True)
    pending = fields.Integer(dump_only=True)
    kept_rate = fields.Float(
        dump_only=True, allow_none=True, metadata={"description": "kept / (kept + broken); null when none is settled"}
    )


class AgingBucketSchema(StrictSchema):
    bucket = fields.String(dump_only=True, metadata={"description": "1-30, 31-60, 61-90 or 91+ days past due"})
    accounts = fields.Integer(dump_only=True)
    amount_due = Money(dump_only=True)


class RepFiguresSchema(StrictSchema):
    rep_id = fields.Integer(dump_only=True)
    rep_name = fields.String(dump_only=True, allow_none=True)
    visits_completed = fields.Integer(dump_only=True)
    on_site_rate = fields.Float(
        dump_only=True,
        allow_none=True,
        metadata={"description": "On-site check-ins / check-ins; null without check-ins"},
    )
    collected_amount = Money(dump_only=True)
    promises_made = fields.Integer(dump_only=True)
    promises_kept = fields.Integer(dump_only=True)


class CollectionSummarySchema(StrictSchema):
    dealership_id = fields.Integer(dump_only=True)
    date_from = fields.Date(dump_only=True, data_key="from")
    date_to = fields.Date(dump_only=True, data_key="to")
    visits = fields.Nested(VisitFiguresSchema, dump_only=True)
    check_ins = fields.Nested(CheckInFiguresSchema, dump_only=True)
    outcomes = fields.Dict(
        dump_only=True,
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Outcome code -> count, zeros included"},
    )
    collected_amount = Money(dump_only=True)
    promises = fields.Nested(PromiseFiguresSchema, dump_only=True)
    aging = fields.List(fields.Nested(AgingBucketSchema), dump_only=True)
    open_follow_ups = fields.Integer(dump_only=True)
    by_rep = fields.List(fields.Nested(RepFiguresSchema), dump_only=True)
