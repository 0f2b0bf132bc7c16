from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from field_ops.core.api import Blueprint, requires_login
from field_ops.core.concurrency import lock_and_check_etag
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.lot_issues import service
from field_ops.lot_issues.schemas import (
    CommentCreateSchema,
    CommentSchema,
    LotIssueCreateSchema,
    LotIssuePatchSchema,
    LotIssueQuerySchema,
    LotIssueSchema,
    LotRankingSchema,
    LotSummarySchema,
)
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("lot_issues", __name__, url_prefix="/api/v1", description="Lot-level issues")

FILERS = (Role.ADMIN, Role.SPECIALIST, Role.REP)
WORKERS = (Role.ADMIN, Role.SPECIALIST, Role.MANAGER)


@blp.route("/lot-issues")
class LotIssues(MethodView):
    @requires_login(blp, errors=(422,))
    @blp.arguments(LotIssueQuerySchema, location="query")
    @blp.response(200, LotIssueSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List the lot issues of the caller's lots, newest first

        A filter on a lot out of the caller's scope finds nothing (200, empty list). `overdue`
        is evaluated now: unresolved and past `due_at`.
        """
        stmt = service.list_lot_issues_query(current_user(), **query)
        return paginate(get_session(), stmt, pagination_parameters)

    @requires_login(blp, *FILERS, errors=(400, 422))
    @blp.arguments(LotIssueCreateSchema)
    @blp.response(201, LotIssueSchema)
    def post(self, body):
        """File a lot issue (reps for their own lots; specialists and admins anywhere)

        `assigned_department` defaults from the category; `due_at` is 1/3/7/14 days from filing
        for critical/high/medium/low. A visit or account of another lot is 422 `not_same_dealership`.
        """
        issue = service.file_lot_issue(get_session(), actor=current_user(), **body)
        return issue, 201, {"Location": url_for("lot_issues.LotIssueById", issue_id=issue.id)}


@blp.route("/lot-issues/summary")
class LotIssuesRanking(MethodView):
    @requires_login(blp, *WORKERS)
    @blp.response(200, LotRankingSchema(many=True))
    def get(self):
        """Every lot in the caller's scope by its unresolved issues, worst first

        Ordered by open critical, then open high, then overdue, then open issues.
        """
        return service.rank_lots(get_session(), current_user())


@blp.route("/lot-issues/<int:issue_id>")
class LotIssueById(MethodView):
    @requires_login(blp, errors=(404,))
    @blp.etag
    @blp.response(200, LotIssueSchema)
    def get(self, issue_id):
        """Read a lot issue"""
        return service.get_lot_issue(get_session(), current_user(), issue_id)

    @requires_login(blp, *WORKERS, errors=(400, 404, 409, 412, 422, 428))
    @blp.etag
    @blp.arguments(LotIssuePatchSchema)
    @blp.response(200, LotIssueSchema)
    def patch(self, changes, issue_id):
        """Work a lot issue: status (with `resolution` for `resolved`), severity, department, title, description

        Status: open -> acknowledged -> in_progress -> resolved -> closed, and resolved -> open
        (reopen); anything else is 409 `invalid_transition`. Each change stamps its time. A
        manager changes only `status`, `resolution` and `assigned_department` (403
        `field_not_allowed_for_role` otherwise).
        """
        session = get_session()
        issue = service.get_lot_issue(session, current_user(), issue_id)
        lock_and_check_etag(blp, session, issue, LotIssueSchema)
        return service.update_lot_issue(session, actor=current_user(), issue=issue, changes=changes)


@blp.route("/lot-issues/<int:issue_id>/comments")
class LotIssueComments(MethodView):
    @requires_login(blp, errors=(404, 422))
    @blp.response(200, CommentSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, issue_id, pagination_parameters):
        """List an issue's comments, oldest first"""
        session = get_session()
        issue = service.get_lot_issue(session, current_user(), issue_id)
        return paginate(session, service.list_comments_query(issue), pagination_parameters)

    @requires_login(blp, errors=(400, 404, 422))
    @blp.arguments(CommentCreateSchema)
    @blp.response(201, CommentSchema)
    def post(self, body, issue_id):
        """Comment on a lot issue (anyone who sees it: its lot's reps and manager, the office)"""
        session = get_session()
        issue = service.get_lot_issue(session, current_user(), issue_id)
        comment = service.add_comment(session, actor=current_user(), issue=issue, **body)
        return comment, 201, {"Location": url_for("lot_issues.LotIssueComments", issue_id=issue.id)}


@blp.route("/dealerships/<int:dealership_id>/lot-issues/summary")
class LotIssueSummary(MethodView):
    @requires_login(blp, *WORKERS, errors=(404,))
    @blp.response(200, LotSummarySchema)
    def get(self, dealership_id):
        """One lot's issue figures: counts by status, category and severity (zeros included),
        the unresolved issues' median age, new issues per ISO week (12 weeks, lot-local, current
        week last) and the overdue count"""
        return service.summarize_lot(get_session(), current_user(), dealership_id)
