from __future__ import annotations

from flask import url_for
from flask.views import MethodView

from field_ops.contacts import service
from field_ops.contacts.schemas import AccountContactQuerySchema, ContactCreateSchema, ContactQuerySchema, ContactSchema
from field_ops.core.api import Blueprint, requires_login
from field_ops.core.db import get_session
from field_ops.core.pagination import paginate
from field_ops.users.current import current_user
from field_ops.users.models import Role

blp = Blueprint("contacts", __name__, url_prefix="/api/v1", description="Contacts: texts, calls and what came of them")

WRITERS = (Role.ADMIN, Role.SPECIALIST)
READERS = (Role.ADMIN, Role.SPECIALIST, Role.MANAGER)


@blp.route("/accounts/<int:account_id>/contacts")
class AccountContacts(MethodView):
    @requires_login(blp, *READERS, errors=(404, 422))
    @blp.arguments(AccountContactQuerySchema, location="query")
    @blp.response(200, ContactSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters, account_id):
        """List an account's contacts, newest first"""
        session = get_session()
        stmt = service.list_account_contacts_query(session, current_user(), account_id, **query)
        return paginate(session, stmt, pagination_parameters)

    @requires_login(blp, *WRITERS, errors=(400, 404, 409, 422))
    @blp.arguments(ContactCreateSchema)
    @blp.response(201, ContactSchema)
    def post(self, body, account_id):
        """Log a contact with the customer

        An outbound contact obeys the account's restrictions (409 `contact_restricted`) and the
        contact hours in the customer's zone (422 `outside_contact_hours`); an inbound one is
        always recorded. `pv_booked` and `appointment_set` need the visit booked (422
        `visit_required`, `visit_mismatch`). A `follow_up_id` names a follow-up of the same
        account (422 `follow_up_mismatch` otherwise).
        """
        contact = service.record_contact(get_session(), actor=current_user(), account_id=account_id, **body)
        return contact, 201, {"Location": url_for("contacts.ContactById", contact_id=contact.id)}


@blp.route("/contacts")
class Contacts(MethodView):
    @requires_login(blp, *READERS, errors=(422,))
    @blp.arguments(ContactQuerySchema, location="query")
    @blp.response(200, ContactSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, query, pagination_parameters):
        """List contacts in the caller's scope (a manager: their lots'), newest first"""
        return paginate(get_session(), service.list_contacts_query(current_user(), **query), pagination_parameters)


@blp.route("/contacts/<int:contact_id>")
class ContactById(MethodView):
    @requires_login(blp, *READERS, errors=(404,))
    @blp.etag
    @blp.response(200, ContactSchema)
    def get(self, contact_id):
        """Read a contact"""
        return service.get_contact(get_session(), current_user(), contact_id)
