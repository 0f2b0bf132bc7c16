from __future__ import annotations

from flask import request, url_for
from flask.views import MethodView

from field_ops.core import idempotency
from field_ops.core.api import Blueprint, requires_login
from field_ops.core.concurrency import lock_and_check_etag
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.users.current import current_user
from field_ops.users.models import Role
from field_ops.visits import batch, service
from field_ops.visits.schemas import (
    CheckInSchema,
    OutcomeBatchResponseSchema,
    OutcomeBatchSchema,
    OutcomeFieldsSchema,
    OutcomeSchema,
    VisitCreateSchema,
    VisitPatchSchema,
    VisitQuerySchema,
    VisitSchema,
)

blp = Blueprint("visits", __name__, url_prefix="/api/v1/visits", description="Visits, check-ins and outcomes")

BOOKERS = (Role.ADMIN, Role.SPECIALIST)
FIELD_WORKERS = (Role.ADMIN, Role.SPECIALIST, Role.REP)
LOCATION_HEADER = {"description": "The outcome's URL", "schema": {"type": "string"}}
OUTCOME_RECORDERS = (*FIELD_WORKERS, Role.MANAGER)
IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": True,
    "schema": {"type": "string", "maxLength": 255},
    "description": "A unique key per outcome (a UUID); a retry with the same key and body returns the first answer",
}


@blp.route("")
class Visits(MethodView):
    @requires_login(blp, errors=(422,))
    @blp.arguments(VisitQuerySchema, location="query")
    @blp.response(200, VisitSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List visits in the caller's scope (a rep: their own)"""
        return paginate(get_session(), service.list_visits_query(current_user(), **query), pagination_parameters)

    @requires_login(blp, *BOOKERS, errors=(400, 404, 409, 422))
    @blp.arguments(VisitCreateSchema)
    @blp.response(201, VisitSchema)
    def post(self, body):
        """Book a visit

        Refused with 422 `invalid_window` or `outside_contact_hours` (the customer's local time),
        409 `contact_restricted` or `visit_frequency_limit`; each refusal names the rule applied.
        """
        visit = service.book_visit(get_session(), actor=current_user(), **body)
        return visit, 201, {"Location": url_for("visits.VisitById", visit_id=visit.id)}


@blp.route("/<int:visit_id>")
class VisitById(MethodView):
    @requires_login(blp, errors=(404,))
    @blp.etag
    @blp.response(200, VisitSchema)
    def get(self, visit_id):
        """Read a visit"""
        return service.get_visit(get_session(), current_user(), visit_id)

    @requires_login(blp, *BOOKERS, errors=(400, 404, 409, 412, 422, 428))
    @blp.etag
    @blp.arguments(VisitPatchSchema)
    @blp.response(200, VisitSchema)
    def patch(self, changes, visit_id):
        """Reschedule, reassign, reprioritise or cancel a visit (the booking rules apply again)"""
        session = get_session()
        visit = service.get_visit(session, current_user(), visit_id)
        lock_and_check_etag(blp, session, visit, VisitSchema)
        return service.update_visit(session, actor=current_user(), visit=visit, changes=changes)


@blp.route("/<int:visit_id>/check-in", methods=["POST"])
@requires_login(blp, *FIELD_WORKERS, errors=(400, 404, 409, 422))
@blp.arguments(CheckInSchema)
@blp.response(200, VisitSchema)
def check_in(body, visit_id):
    """Check in at the door: distance from the address, `on_site`, `in_window`"""
    session = get_session()
    visit = service.get_visit(session, current_user(), visit_id, for_field_work=True)
    return service.check_in(session, actor=current_user(), visit=visit, **body)


@blp.route("/<int:visit_id>/outcome")
class VisitOutcome(MethodView):
    @requires_login(blp, errors=(404,))
    @blp.etag
    @blp.response(200, OutcomeSchema)
    def get(self, visit_id):
        """Read what a visit's outcome recorded (404 while none is)"""
        return service.get_outcome(get_session(), current_user(), visit_id)

    @requires_login(blp, *OUTCOME_RECORDERS, errors=(400, 404, 409, 422, 428))
    @blp.doc(operationId="visits_record_outcome", parameters=[IDEMPOTENCY_HEADER])
    @blp.arguments(OutcomeFieldsSchema)
    @blp.response(201, OutcomeSchema, headers={"Location": LOCATION_HEADER})
    def post(self, fields, visit_id):
        """Record a visit's outcome, safely retried with an Idempotency-Key

        The same key with the same body returns the stored answer again (no second record); the
        same key with another body is 422 `idempotency_key_reused`; a second outcome under a new key
        is 409 `outcome_already_recorded`.
        """
        session, actor = get_session(), current_user()

        def act() -> tuple[int, str]:
            outcome = service.record_outcome(session, actor=actor, visit_id=visit_id, fields=fields)
            return 201, OutcomeSchema().dumps(outcome)

        return idempotency.respond_once(
            session,
            user_id=actor.id,
            key=request.headers.get("Idempotency-Key"),
            target=batch.outcome_target(visit_id),
            payload=request.get_json(silent=True),
            action=act,
            headers=lambda stored: (
                {"Location": url_for("visits.VisitOutcome", visit_id=visit_id)} if stored.status == 201 else {}
            ),
        )


@blp.route("/outcomes:batch", methods=["POST"])
@requires_login(blp, *OUTCOME_RECORDERS, errors=(400, 422))
@blp.arguments(OutcomeBatchSchema)
@blp.response(207, OutcomeBatchResponseSchema)
def record_outcomes_batch(body):
    """Record queued outcomes from a phone back online: one result per item, each item atomic"""
    return {"results": batch.record_outcomes_batch(get_session(), actor=current_user(), items=body["items"])}
