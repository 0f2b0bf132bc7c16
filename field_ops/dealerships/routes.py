from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from field_ops.core.api import Blueprint, requires_login
from field_ops.core.concurrency import lock_and_check_etag
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.dealerships import service
from field_ops.dealerships.schemas import DealershipPatchSchema, DealershipSchema
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("dealerships", __name__, url_prefix="/api/v1/dealerships", description="Dealerships (lots)")

WRITERS = (Role.ADMIN,)


@blp.route("")
class Dealerships(MethodView):
    @requires_login(blp, errors=(422,))
    @blp.response(200, DealershipSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, pagination_parameters):
        """List the dealerships in the caller's scope"""
        return paginate(get_session(), service.list_dealerships_query(current_user()), pagination_parameters)

    @requires_login(blp, *WRITERS, errors=(400, 409, 422))
    @blp.arguments(DealershipSchema)
    @blp.response(201, DealershipSchema)
    def post(self, body):
        """Create a dealership; coordinates and zone are derived from the address when not given"""
        dealership = service.create_dealership(get_session(), actor=current_user(), **body)
        return dealership, 201, {"Location": url_for("dealerships.DealershipById", dealership_id=dealership.id)}


@blp.route("/<int:dealership_id>")
class DealershipById(MethodView):
    @requires_login(blp, errors=(404,))
    @blp.etag
    @blp.response(200, DealershipSchema)
    def get(self, dealership_id):
        """Read a dealership"""
        return service.get_dealership(get_session(), current_user(), dealership_id)

    @requires_login(blp, *WRITERS, errors=(400, 404, 409, 412, 422, 428))
    @blp.etag
    @blp.arguments(DealershipPatchSchema)
    @blp.response(200, DealershipSchema)
    def patch(self, changes, dealership_id):
        """Change a dealership"""
        session = get_session()
        dealership = service.get_dealership(session, current_user(), dealership_id)
        lock_and_check_etag(blp, session, dealership, DealershipSchema)
        return service.update_dealership(session, actor=current_user(), dealership=dealership, changes=changes)
