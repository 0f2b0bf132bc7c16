from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from field_ops.accounts import service
from field_ops.accounts.schemas import AccountPatchSchema, AccountQuerySchema, AccountSchema
from field_ops.core.api import Blueprint, requires_login
from field_ops.core.concurrency import lock_and_check_etag
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("accounts", __name__, url_prefix="/api/v1/accounts", description="Customer accounts")

WRITERS = (Role.ADMIN, Role.SPECIALIST)


@blp.route("")
class Accounts(MethodView):
    @requires_login(blp, errors=(422,))
    @blp.arguments(AccountQuerySchema, location="query")
    @blp.response(200, AccountSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List accounts in the caller's scope, filtered by lot, days past due, aging bucket, restriction or text"""
        return paginate(get_session(), service.list_accounts_query(current_user(), **query), pagination_parameters)

    @requires_login(blp, *WRITERS, errors=(400, 404, 409, 422))
    @blp.arguments(AccountSchema)
    @blp.response(201, AccountSchema)
    def post(self, body):
        """Create an account; coordinates and zone are derived from the address when not given"""
        account = service.create_account(get_session(), actor=current_user(), **body)
        return account, 201, {"Location": url_for("accounts.AccountById", account_id=account.id)}


@blp.route("/<int:account_id>")
class AccountById(MethodView):
    @requires_login(blp, errors=(404,))
    @blp.etag
    @blp.response(200, AccountSchema)
    def get(self, account_id):
        """Read an account"""
        return service.get_account(get_session(), current_user(), account_id)

    @requires_login(blp, *WRITERS, errors=(400, 404, 409, 412, 422, 428))
    @blp.etag
    @blp.arguments(AccountPatchSchema)
    @blp.response(200, AccountSchema)
    def patch(self, changes, account_id):
        """Change an account; a change of restrictions needs `restriction_note` and is audited"""
        session = get_session()
        account = service.get_account(session, current_user(), account_id)
        lock_and_check_etag(blp, session, account, AccountSchema)
        return service.update_account(session, actor=current_user(), account=account, changes=changes)
