from __future__ import annotations

from marshmallow import fields, validate

from field_ops.accounts.schemas import AccountSchema
from field_ops.core.schemas import StrictSchema, Timestamp
from field_ops.visits.schemas import VisitSchema


class RoutePlanRequestSchema(StrictSchema):
    date = fields.Date(required=True, metadata={"description": "The lot's local date to plan"})
    rep_ids = fields.List(
        fields.Integer(strict=True),
        allow_none=True,
        metadata={"description": "Reps on shift; default all active reps of the lot"},
    )
    keep_assignments = fields.Boolean(load_default=False)
    mode = fields.String(
        load_default="full",
        validate=validate.OneOf(["full", "insert"]),
        metadata={"description": "`insert` fits new visits into the existing routes without reordering their stops"},
    )


class StopSchema(StrictSchema):
    visit_id = fields.Integer(attribute="id", dump_only=True)
    sequence = fields.Integer(dump_only=True)
    eta = Timestamp(dump_only=True)
    travel_km = fields.Float(dump_only=True, allow_none=True)
    account_id = fields.Integer(dump_only=True)
    customer_name = fields.String(attribute="account.customer_name", dump_only=True)


class RouteSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    rep_id = fields.Integer(dump_only=True)
    rep_name = fields.String(attribute="rep.name", dump_only=True)
    dealership_id = fields.Integer(dump_only=True)
    date = fields.Date(dump_only=True)
    stops = fields.List(fields.Nested(StopSchema), dump_only=True)
    total_km = fields.Float(dump_only=True)
    total_travel_minutes = fields.Float(dump_only=True)
    start_at = Timestamp(dump_only=True, allow_none=True)
    end_at = Timestamp(dump_only=True, allow_none=True)
    map_url = fields.String(dump_only=True, allow_none=True)
    map_urls = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "Every leg when the stops exceed one link's waypoints"},
    )


class UnassignedSchema(StrictSchema):
    visit_id = fields.Integer(dump_only=True)
    reason = fields.String(
        dump_only=True,
        metadata={
            "description": "contact_restricted, window_unreachable, outside_shift, no_rep_available, did_not_fit, "
            "missing_coordinates, dealership_appointment"
        },
    )


class RoutePlanSchema(StrictSchema):
    date = fields.Date(dump_only=True)
    dealership_id = fields.Integer(dump_only=True)
    mode = fields.String(dump_only=True)
    matrix_source = fields.String(
        dump_only=True, metadata={"description": "great_circle, osrm, or great_circle_fallback when OSRM failed"}
    )
    routes = fields.List(fields.Nested(RouteSchema), dump_only=True)
    unassigned = fields.List(fields.Nested(UnassignedSchema), dump_only=True)


class RouteQuerySchema(StrictSchema):
    date = fields.Date()
    dealership_id = fields.Integer()
    rep_id = fields.Integer()


class MyRouteQuerySchema(StrictSchema):
    date = fields.Date(metadata={"description": "Default: today in the rep's dealership zone"})


class StopAccountSchema(AccountSchema):
    class Meta:
        fields = (
            "id",
            "account_number",
            "customer_name",
            "phone",
            "address",
            "latitude",
            "longitude",
            "amount_due",
            "days_past_due",
        )


class MyStopSchema(StrictSchema):
    sequence = fields.Integer(dump_only=True)
    eta = Timestamp(dump_only=True)
    travel_km = fields.Float(dump_only=True, allow_none=True)
    visit = fields.Nested(VisitSchema, dump_only=True)
    account = fields.Nested(StopAccountSchema, dump_only=True)


class MyRouteSchema(StrictSchema):
    date = fields.Date(dump_only=True)
    route_id = fields.Integer(dump_only=True, allow_none=True)
    rep_id = fields.Integer(dump_only=True)
    start_at = Timestamp(dump_only=True, allow_none=True)
    end_at = Timestamp(dump_only=True, allow_none=True)
    total_km = fields.Float(dump_only=True, allow_none=True)
    map_url = fields.String(dump_only=True, allow_none=True)
    map_urls = fields.List(fields.String(), dump_only=True)
    stops = fields.List(fields.Nested(MyStopSchema), dump_only=True)
