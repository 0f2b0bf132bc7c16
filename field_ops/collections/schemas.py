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
    made = fields.Integer(
        dump_only=True, metadata={"description": "Promises to pay made on a date of the range (lot-local date)"}
    )
    kept = fields.Integer(dump_only=True, metadata={"description": "Of those, now kept (paid in full by their date)"})
    broken = fields.Integer(
        dump_only=True, metadata={"description": "Of those, now broken (still short once their date was closed)"}
    )
    pending = fields.Integer(dump_only=True, metadata={"description": "Of those, neither yet"})
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
    collected_amount = Money(
        dump_only=True,
        metadata={"description": "Payments paid in the range recorded at a visit assigned to the rep (at the door)"},
    )
    promises_made = fields.Integer(
        dump_only=True, metadata={"description": "Promises made in the range at the rep's visits"}
    )
    promises_kept = fields.Integer(dump_only=True, metadata={"description": "Of those, now kept"})


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
    collected_amount = Money(
        dump_only=True,
        metadata={"description": "Payments paid in the range (lot-local paid-on date): at the door, office and online"},
    )
    promises = fields.Nested(PromiseFiguresSchema, dump_only=True)
    aging = fields.List(fields.Nested(AgingBucketSchema), dump_only=True)
    open_follow_ups = fields.Integer(
        dump_only=True,
        metadata={"description": "Follow-ups open now and due by the range's last date, overdue ones included"},
    )
    by_rep = fields.List(fields.Nested(RepFiguresSchema), dump_only=True)
