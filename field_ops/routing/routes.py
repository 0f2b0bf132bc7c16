from __future__ import annotations

import json

from flask import Response, request
from flask.views import MethodView

from field_ops.core.api import Blueprint, answers_also, answers_file, requires_login
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.dealerships.models import Dealership
from field_ops.routing import service
from field_ops.routing.schemas import (
    MyRouteQuerySchema,
    MyRouteSchema,
    RoutePlanRequestSchema,
    RoutePlanSchema,
    RouteQuerySchema,
    RouteSchema,
)
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("routing", __name__, url_prefix="/api/v1", description="Route plans and routes")

GEOJSON = "application/geo+json"
FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"type": "object"}},
    },
}


@blp.route("/dealerships/<int:dealership_id>/route-plans", methods=["POST"])
@requires_login(blp, Role.ADMIN, Role.SPECIALIST, errors=(400, 404, 409, 422))
@blp.arguments(RoutePlanRequestSchema)
@blp.response(200, RoutePlanSchema)
def plan_routes(body, dealership_id):
    """Plan a lot's day: the visits grouped into reps' routes, every unplaced visit with its reason

    Re-planning the same day replaces the earlier plan whole; visits already checked in or
    completed stay where they are, and each rep's route keeps its id. The solver runs with no
    transaction open; if a visit of the day is booked, cancelled or changed meanwhile, the plan
    is not saved and the answer is 409 `plan_stale` (plan again). 409 `plan_in_progress`: the
    lot-day's first plan is being saved by someone else.
    """
    outcome = service.plan_routes(get_session(), actor=current_user(), dealership_id=dealership_id, **body)
    plan = outcome.plan
    return {
        "date": plan.date,
        "dealership_id": plan.dealership_id,
        "mode": plan.mode,
        "matrix_source": plan.matrix_source,
        "routes": outcome.routes,
        "unassigned": plan.unassigned,
    }


@blp.route("/routes")
class Routes(MethodView):
    @requires_login(blp, errors=(422,))
    @blp.arguments(RouteQuerySchema, location="query")
    @blp.response(200, RouteSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List routes in the caller's scope (a rep: their own)"""
        return paginate(get_session(), service.list_routes_query(current_user(), **query), pagination_parameters)


@blp.route("/routes/<int:route_id>")
@requires_login(blp, errors=(404,))
@blp.etag
@blp.response(200, RouteSchema)
@answers_also(blp, 200, GEOJSON, vary_accept=True)
def get_route(route_id):
    """Read a route (also as GeoJSON with `Accept: application/geo+json`)

    With `Accept: application/geo+json`: a GeoJSON FeatureCollection of the lot and the stops.
    """
    session = get_session()
    route = service.get_route(session, current_user(), route_id)
    as_geojson = request.accept_mimetypes.best_match(["application/json", GEOJSON]) == GEOJSON
    blp.set_etag({"route": RouteSchema().dump(route), "geojson": as_geojson})
    if as_geojson:
        collection = service.route_geojson(route, session.get(Dealership, route.dealership_id))
        response = Response(json.dumps(collection), mimetype=GEOJSON)
        response.headers["Vary"] = "Accept"
        return response
    return route, 200, {"Vary": "Accept"}


@blp.route("/routes/<int:route_id>.geojson")
@requires_login(blp, errors=(404,))
@answers_file(
    blp, GEOJSON, "A GeoJSON FeatureCollection: the route as a LineString, each stop as a Point", FEATURE_COLLECTION
)
def get_route_geojson(route_id):
    """Read a route as GeoJSON (the same as `Accept: application/geo+json` on the route)"""
    session = get_session()
    route = service.get_route(session, current_user(), route_id)
    collection = service.route_geojson(route, session.get(Dealership, route.dealership_id))
    return Response(json.dumps(collection), mimetype=GEOJSON)


@blp.route("/me/route")
@requires_login(blp, Role.REP, errors=(422,))
@blp.arguments(MyRouteQuerySchema, location="query")
@blp.response(200, MyRouteSchema)
def my_route(query):
    """The signed-in rep's route of a day, with each stop's visit and account, in one response"""
    rep = current_user()
    day, route = service.get_my_route(get_session(), rep, query.get("date"))
    if route is None:
        return {
            "date": day,
            "route_id": None,
            "rep_id": rep.id,
            "start_at": None,
            "end_at": None,
            "total_km": None,
            "map_url": None,
            "map_urls": [],
            "stops": [],
        }
    return {
        "date": day,
        "route_id": route.id,
        "rep_id": rep.id,
        "start_at": route.start_at,
        "end_at": route.end_at,
        "total_km": route.total_km,
        "map_url": route.map_url,
        "map_urls": route.map_urls,
        "stops": [
            {"sequence": v.sequence, "eta": v.eta, "travel_km": v.travel_km, "visit": v, "account": v.account}
            for v in route.stops
        ],
    }
