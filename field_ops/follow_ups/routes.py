from __future__ import annotations

from flask.views import MethodView

from field_ops.core.api import Blueprint, requires_login
from field_ops.core.concurrency import lock_and_check_etag
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.follow_ups import service
from field_ops.follow_ups.schemas import FollowUpPatchSchema, FollowUpQuerySchema, FollowUpSchema
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("follow_ups", __name__, url_prefix="/api/v1/follow-ups", description="The specialists' work queue")

READERS = (Role.ADMIN, Role.SPECIALIST, Role.MANAGER)
WORKERS = (Role.ADMIN, Role.SPECIALIST)


@blp.route("")
class FollowUps(MethodView):
    @requires_login(blp, *READERS, errors=(422,))
    @blp.arguments(FollowUpQuerySchema, location="query")
    @blp.response(200, FollowUpSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List follow-ups in the caller's scope, earliest due first"""
        return paginate(get_session(), service.list_follow_ups_query(current_user(), **query), pagination_parameters)


@blp.route("/<int:follow_up_id>")
class FollowUpById(MethodView):
    @requires_login(blp, *READERS, errors=(404,))
    @blp.etag
    @blp.response(200, FollowUpSchema)
    def get(self, follow_up_id):
        """Read a follow-up"""
        return service.get_follow_up(get_session(), current_user(), follow_up_id)

    @requires_login(blp, *WORKERS, errors=(400, 404, 409, 412, 422, 428))
    @blp.etag
    @blp.arguments(FollowUpPatchSchema)
    @blp.response(200, FollowUpSchema)
    def patch(self, changes, follow_up_id):
        """Close a follow-up: `done`, or `dismissed` with a note (409 `invalid_transition` once closed)"""
        session = get_session()
        follow_up = service.get_follow_up(session, current_user(), follow_up_id)
        lock_and_check_etag(blp, session, follow_up, FollowUpSchema)
        return service.resolve_follow_up(session, actor=current_user(), follow_up=follow_up, **changes)
