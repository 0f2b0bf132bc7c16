from __future__ import annotations

from flask.views import MethodView

from field_ops.audit.schemas import AuditEntrySchema, AuditQuerySchema
from field_ops.audit.service import list_audit_entries_query
from field_ops.core.api import Blueprint, requires_login
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The append-only audit trail")


@blp.route("")
class AuditTrail(MethodView):
    @requires_login(blp, Role.ADMIN, Role.SPECIALIST, Role.MANAGER, errors=(422,))
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List audit entries (newest first; a manager sees their dealerships' entries)"""
        stmt = list_audit_entries_query(current_user(), **query)
        return paginate(get_session(), stmt, pagination_parameters)
