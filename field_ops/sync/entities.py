"""The synced entity types: one line each."""

from __future__ import annotations

from sqlalchemy import exists
from sqlalchemy.orm import lazyload

from field_ops.accounts.models import Account
from field_ops.accounts.schemas import AccountSchema
from field_ops.follow_ups.models import FollowUp
from field_ops.follow_ups.schemas import FollowUpSchema
from field_ops.lot_issues.models import LotIssue
from field_ops.lot_issues.schemas import LotIssueSchema
from field_ops.routing.models import Route
from field_ops.routing.schemas import RouteSchema
from field_ops.sync.registry import SyncedType, register
from field_ops.visits.models import Visit
from field_ops.visits.schemas import VisitSchema


def _accounts_of_reps_visits(viewer):
    return exists().where(Visit.account_id == Account.id, Visit.assigned_rep_id == viewer.id)


def _account_of_visit(visit):
    return [("account", visit.account_id)]


def _visit_load_options():
    return (lazyload(Visit.account),)  # a synced visit carries account_id; its account syncs on its own


register(
    SyncedType(
        "visit",
        "visits",
        Visit,
        VisitSchema,
        rep_column="assigned_rep_id",
        related=_account_of_visit,
        load_options=_visit_load_options,
    )
)
register(SyncedType("route", "routes", Route, RouteSchema, rep_column="rep_id"))
register(
    SyncedType(
        "account",
        "accounts",
        Account,
        AccountSchema,
        rep_visible=_accounts_of_reps_visits,
        rep_exclude=("restriction_note",),
    )
)
register(SyncedType("lot_issue", "lot_issues", LotIssue, LotIssueSchema))
register(SyncedType("follow_up", "follow_ups", FollowUp, FollowUpSchema, office_only=True))
