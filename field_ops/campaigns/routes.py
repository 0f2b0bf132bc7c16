from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from field_ops.campaigns import service
from field_ops.campaigns.schemas import (
    CampaignCreateSchema,
    CampaignQuerySchema,
    CampaignSchema,
    CampaignSummarySchema,
)
from field_ops.core.api import Blueprint, requires_login
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("campaigns", __name__, url_prefix="/api/v1/campaigns", description="Campaigns for a struggling lot")

WRITERS = (Role.ADMIN, Role.SPECIALIST)
READERS = (Role.ADMIN, Role.SPECIALIST, Role.MANAGER)


@blp.route("")
class Campaigns(MethodView):
    @requires_login(blp, *READERS, errors=(422,))
    @blp.arguments(CampaignQuerySchema, location="query")
    @blp.response(200, CampaignSummarySchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List campaigns in the caller's scope with their progress, latest first"""
        session = get_session()
        page = paginate(session, service.list_campaigns_query(current_user(), **query), pagination_parameters)
        return service.describe_campaigns(session, page)

    @requires_login(blp, *WRITERS, errors=(400, 404, 422))
    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    @blp.alt_response(200, schema=CampaignSchema, description="A dry run: what would be booked, nothing written")
    def post(self, body):
        """Book personal visits for a segment of a lot's accounts

        Each account goes through the rules of `POST /visits`; a refused one is `skipped` with the
        refusal's `code` (`daily_cap_reached` when every day is at `max_visits_per_day`). One
        transaction: all bookings or none (422 `campaign_failed` with the results) unless
        `partial=true`. `dry_run=true` answers 200 with what would happen and writes nothing.
        422 for more than 31 days, `from` in the past, or `empty_segment`.
        """
        campaign = service.create_campaign(get_session(), actor=current_user(), **body)
        if campaign["id"] is None:
            return campaign, 200
        return campaign, 201, {"Location": url_for("campaigns.CampaignById", campaign_id=campaign["id"])}


@blp.route("/<int:campaign_id>")
class CampaignById(MethodView):
    @requires_login(blp, *READERS, errors=(404,))
    @blp.etag
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id):
        """Read a campaign: its results per account and its progress"""
        return service.get_campaign(get_session(), current_user(), campaign_id)
