from __future__ import annotations

from field_ops.collections import service
from field_ops.collections.schemas import CollectionSummarySchema, SummaryQuerySchema
from field_ops.core.api import Blueprint, requires_login
from field_ops.core.db import get_session
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("collections", __name__, url_prefix="/api/v1", description="Collection figures of each lot")

READERS = (Role.ADMIN, Role.SPECIALIST, Role.MANAGER)


@blp.route("/dealerships/<int:dealership_id>/collections/summary", methods=["GET"])
@requires_login(blp, *READERS, errors=(404, 422))
@blp.arguments(SummaryQuerySchema, location="query")
@blp.response(200, CollectionSummarySchema)
def lot_summary(query, dealership_id):
    """A lot's collection figures over a range of its local dates"""
    return service.get_lot_summary(get_session(), current_user(), dealership_id, **query)


@blp.route("/collections/summary", methods=["GET"])
@requires_login(blp, *READERS, errors=(422,))
@blp.arguments(SummaryQuerySchema, location="query")
@blp.response(200, CollectionSummarySchema(many=True))
def summaries(query):
    """The same figures for every lot in the caller's scope, worst kept rate first"""
    return service.list_lot_summaries(get_session(), current_user(), **query)
