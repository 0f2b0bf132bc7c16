from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from field_ops.core.api import Blueprint, requires_login
from field_ops.core.concurrency import lock_and_check_etag
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.users import service
from field_ops.users.current import current_user
from field_ops.users.models import Role
from field_ops.users.schemas import MeSchema, UserCreateSchema, UserPatchSchema, UserQuerySchema, UserSchema

blp = Blueprint("users", __name__, url_prefix="/api/v1", description="Users and the current user")


@blp.route("/me")
class Me(MethodView):
    @requires_login(blp)
    @blp.response(200, MeSchema)
    def get(self):
        """The signed-in user"""
        return current_user()


@blp.route("/users")
class Users(MethodView):
    @requires_login(blp, Role.ADMIN, errors=(422,))
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List users (admin)"""
        return paginate(get_session(), service.list_users_query(**query), pagination_parameters)

    @requires_login(blp, Role.ADMIN, errors=(400, 409, 422))
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, body):
        """Create a user (admin)"""
        user = service.create_user(get_session(), actor=current_user(), **body)
        return user, 201, {"Location": url_for("users.UserById", user_id=user.id)}


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @requires_login(blp, Role.ADMIN, errors=(404,))
    @blp.etag
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """Read a user (admin)"""
        return service.get_user(get_session(), user_id)

    @requires_login(blp, Role.ADMIN, errors=(400, 404, 409, 412, 422, 428))
    @blp.etag
    @blp.arguments(UserPatchSchema)
    @blp.response(200, UserSchema)
    def patch(self, changes, user_id):
        """Change a user (admin); `active: false` cuts them off at once, tokens included"""
        session = get_session()
        user = service.get_user(session, user_id)
        lock_and_check_etag(blp, session, user, UserSchema)
        return service.update_user(session, actor=current_user(), user=user, changes=changes)
