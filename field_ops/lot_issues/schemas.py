from __future__ import annotations

import re
from datetime import date

from marshmallow import fields, validate

from field_ops.core.schemas import StrictSchema, Timestamp
from field_ops.lot_issues.models import Department, IssueCategory, IssueSeverity, IssueStatus

CATEGORIES = [c.value for c in IssueCategory]
SEVERITIES = [s.value for s in IssueSeverity]
STATUSES = [s.value for s in IssueStatus]
DEPARTMENTS = [d.value for d in Department]
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DateOrTimestamp(Timestamp):
    """`YYYY-MM-DD` (the lot's local date) or an ISO 8601 timestamp with an offset."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and DATE_ONLY.match(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError as exc:
                raise self.make_error("invalid", input=value, obj_type="date") from exc
        return super()._deserialize(value, attr, data, **kwargs)


class LotIssueCreateSchema(StrictSchema):
    dealership_id = fields.Integer(required=True, strict=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=10000))
    visit_id = fields.Integer(strict=True, allow_none=True, metadata={"description": "A visit of the same lot"})
    account_id = fields.Integer(strict=True, allow_none=True, metadata={"description": "An account of the same lot"})
    assigned_department = fields.String(
        allow_none=True,
        validate=validate.OneOf(DEPARTMENTS),
        metadata={"description": "Default: the category's department"},
    )


class LotIssuePatchSchema(StrictSchema):
    status = fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={
            "description": "open -> acknowledged -> in_progress -> resolved -> closed; resolved -> open (reopen)"
        },
    )
    resolution = fields.String(
        validate=validate.Length(min=1, max=10000), metadata={"description": "Required with `status: resolved`"}
    )
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    assigned_department = fields.String(validate=validate.OneOf(DEPARTMENTS))
    title = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=10000))


class LotIssueSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    dealership_id = fields.Integer(dump_only=True)
    category = fields.String(dump_only=True)
    severity = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    description = fields.String(dump_only=True, allow_none=True)
    visit_id = fields.Integer(dump_only=True, allow_none=True)
    account_id = fields.Integer(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True)
    assigned_department = fields.String(dump_only=True)
    reported_by = fields.Integer(dump_only=True)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)
    acknowledged_at = Timestamp(dump_only=True, allow_none=True)
    resolved_at = Timestamp(dump_only=True, allow_none=True)
    closed_at = Timestamp(dump_only=True, allow_none=True)
    resolution = fields.String(dump_only=True, allow_none=True)
    due_at = Timestamp(dump_only=True, metadata={"description": "Filing time + 1/3/7/14 days by severity"})
    overdue = fields.Boolean(dump_only=True, metadata={"description": "Unresolved and past `due_at`, as of now"})


class LotIssueQuerySchema(StrictSchema):
    dealership_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    assigned_department = fields.String(validate=validate.OneOf(DEPARTMENTS))
    reported_by = fields.Integer()
    overdue = fields.Boolean()
    created_from = DateOrTimestamp(
        metadata={"description": "Filed on or after: a lot-local date (YYYY-MM-DD) or a timestamp with offset"}
    )
    created_to = DateOrTimestamp(
        metadata={"description": "Filed on or before: a lot-local date (inclusive) or a timestamp with offset"}
    )


class CommentCreateSchema(StrictSchema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=10000))


class CommentSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    lot_issue_id = fields.Integer(dump_only=True)
    body = fields.String(dump_only=True)
    author_id = fields.Integer(dump_only=True)
    created_at = Timestamp(dump_only=True)


class WeekCountSchema(StrictSchema):
    week_start = fields.Date(dump_only=True, metadata={"description": "Monday of the ISO week, lot-local"})
    count = fields.Integer(dump_only=True)


class LotSummarySchema(StrictSchema):
    dealership_id = fields.Integer(dump_only=True)
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)
    by_severity = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)
    open_median_age_days = fields.Float(
        dump_only=True, allow_none=True, metadata={"description": "Median age of unresolved issues; null when none"}
    )
    weekly_new = fields.List(
        fields.Nested(WeekCountSchema), dump_only=True, metadata={"description": "12 ISO weeks, current week last"}
    )
    overdue = fields.Integer(dump_only=True)


class LotRankingSchema(StrictSchema):
    dealership_id = fields.Integer(dump_only=True)
    dealership_code = fields.String(dump_only=True)
    open = fields.Integer(dump_only=True)
    open_critical = fields.Integer(dump_only=True)
    open_high = fields.Integer(dump_only=True)
    overdue = fields.Integer(dump_only=True)
    open_median_age_days = fields.Float(dump_only=True, allow_none=True)
    top_category = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "The category with most open issues"}
    )
