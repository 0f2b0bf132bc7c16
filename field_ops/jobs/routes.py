from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from field_ops.core.api import Blueprint, requires_login
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.jobs.models import JobRun
from field_ops.jobs.schemas import JobRunQuerySchema, JobRunSchema
from field_ops.users.models import Role

blp = Blueprint("jobs", __name__, url_prefix="/api/v1/job-runs", description="Runs of the scheduled jobs")


@blp.route("")
class JobRuns(MethodView):
    @requires_login(blp, Role.ADMIN, Role.SPECIALIST, errors=(422,))
    @blp.arguments(JobRunQuerySchema, location="query")
    @blp.response(200, JobRunSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List job runs, latest first (a failed lot names its error and is retried on the next tick)"""
        stmt = select(JobRun)
        for name, value in query.items():
            stmt = stmt.where(getattr(JobRun, name) == value)
        return paginate(get_session(), stmt.order_by(JobRun.id.desc()), pagination_parameters)
