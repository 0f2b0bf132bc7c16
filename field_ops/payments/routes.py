from __future__ import annotations

import json

from flask import request, url_for
from flask.views import MethodView

from field_ops.core import idempotency
from field_ops.core.api import Blueprint, requires_login
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.payments import service
from field_ops.payments.schemas import PaymentCreateSchema, PaymentSchema, PromiseQuerySchema, PromiseSchema
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="Payments and promises to pay")

WRITERS = (Role.ADMIN, Role.SPECIALIST)
READERS = (Role.ADMIN, Role.SPECIALIST, Role.MANAGER)
IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "A unique key per payment (a UUID); a retry with the same key and body returns the first answer",
}


@blp.route("/accounts/<int:account_id>/payments")
class AccountPayments(MethodView):
    @requires_login(blp, *READERS, errors=(404, 422))
    @blp.response(200, PaymentSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, account_id, pagination_parameters):
        """List an account's payments, latest first"""
        session = get_session()
        return paginate(
            session, service.list_payments_query(session, current_user(), account_id), pagination_parameters
        )

    @requires_login(blp, *WRITERS, errors=(400, 404, 422))
    @blp.doc(parameters=[IDEMPOTENCY_HEADER])
    @blp.arguments(PaymentCreateSchema)
    @blp.response(201, PaymentSchema)
    def post(self, body, account_id):
        """Record a payment; pending promises it covers become kept at once

        With an `Idempotency-Key`, a retry with the same body returns the stored answer (no second
        payment) and another body under the same key is 422 `idempotency_key_reused`.
        """
        session = get_session()
        actor = current_user()

        def act() -> tuple[int, str]:
            payment = service.record_payment(session, actor=actor, account_id=account_id, **body)
            return 201, PaymentSchema().dumps(payment)

        return idempotency.respond_once(
            session,
            user_id=actor.id,
            key=request.headers.get("Idempotency-Key"),
            target=f"/accounts/{account_id}/payments",
            payload=request.get_json(silent=True),
            action=act,
            required=False,
            headers=lambda stored: {
                "Location": url_for("payments.PaymentById", payment_id=json.loads(stored.body)["id"])
            },
        )


@blp.route("/payments/<int:payment_id>")
class PaymentById(MethodView):
    @requires_login(blp, *READERS, errors=(404,))
    @blp.etag
    @blp.response(200, PaymentSchema)
    def get(self, payment_id):
        """Read a payment"""
        return service.get_payment(get_session(), current_user(), payment_id)


@blp.route("/promises")
class Promises(MethodView):
    @requires_login(blp, *READERS, errors=(422,))
    @blp.arguments(PromiseQuerySchema, location="query")
    @blp.response(200, PromiseSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List promises to pay in the caller's scope, earliest date first"""
        return paginate(get_session(), service.list_promises_query(current_user(), **query), pagination_parameters)


@blp.route("/promises/<int:promise_id>")
class PromiseById(MethodView):
    @requires_login(blp, *READERS, errors=(404,))
    @blp.etag
    @blp.response(200, PromiseSchema)
    def get(self, promise_id):
        """Read a promise to pay, with what has been paid towards it"""
        return service.get_promise(get_session(), current_user(), promise_id)
