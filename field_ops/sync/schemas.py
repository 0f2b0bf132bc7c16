from __future__ import annotations

from marshmallow import fields, validate

from field_ops.accounts.schemas import AccountSchema
from field_ops.core.schemas import StrictSchema
from field_ops.follow_ups.schemas import FollowUpSchema
from field_ops.lot_issues.schemas import LotIssueSchema
from field_ops.routing.schemas import RouteSchema
from field_ops.visits.schemas import VisitSchema


class Dumped(fields.Nested):
    """A list item already dumped by its own schema (a rep's accounts leave out fields); documented
    as that schema."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class SyncQuerySchema(StrictSchema):
    since = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The cursor of the previous answer; omit for everything"},
    )
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))


class RemovedSchema(StrictSchema):
    entity_type = fields.String(dump_only=True, metadata={"description": "visit, route, account, lot_issue, follow_up"})
    id = fields.Integer(dump_only=True)


class SyncSchema(StrictSchema):
    cursor = fields.String(dump_only=True, metadata={"description": "Opaque; send it back as `since`"})
    has_more = fields.Boolean(dump_only=True, metadata={"description": "Ask again with the new cursor"})
    visits = fields.List(Dumped(VisitSchema), dump_only=True)
    routes = fields.List(Dumped(RouteSchema), dump_only=True)
    lot_issues = fields.List(Dumped(LotIssueSchema), dump_only=True)
    follow_ups = fields.List(Dumped(FollowUpSchema), dump_only=True, metadata={"description": "Office roles only"})
    accounts = fields.List(
        Dumped(AccountSchema), dump_only=True, metadata={"description": "A rep's come without `restriction_note`"}
    )
    removed = fields.List(
        fields.Nested(RemovedSchema),
        dump_only=True,
        metadata={"description": "What left the caller's scope (reassigned, replaced, deleted, lot taken away)"},
    )
