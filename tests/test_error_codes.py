"""Every `code` the API can answer, read from the error classes: clients branch on these, so
a code may be added (add it here too) but never changed or removed."""

from __future__ import annotations

import importlib
import pkgutil

import field_ops
from field_ops.core.errors import ProblemError, field_error

# code -> the HTTP statuses it comes with
CODES = {
    "account_has_open_visits": {409},
    "account_number_taken": {409},
    "bad_request": {400},
    "campaign_failed": {422},
    "conflict": {409},
    "contact_restricted": {409},
    "customer_mismatch": {422},
    "database_unavailable": {503},
    "date_required": {422},
    "day_not_over": {422},
    "dealership_code_taken": {409},
    "email_taken": {409},
    "empty_segment": {422},
    "field_not_allowed_for_role": {403},
    "file_too_large": {413},
    "follow_up_closed": {409},
    "follow_up_mismatch": {422},
    "forbidden": {403},
    "http_error": {400},
    "idempotency_key_required": {428},
    "idempotency_key_reused": {422},
    "import_failed": {422},
    "internal_error": {500},
    "invalid_credentials": {401},
    "invalid_cursor": {422},
    "invalid_token": {401},
    "invalid_transition": {409},
    "invalid_window": {422},
    "last_admin": {409},
    "malformed_json": {400},
    "method_not_allowed": {405},
    "not_acceptable": {406},
    "not_assigned_rep": {403},
    "not_found": {404},
    "not_same_dealership": {422},
    "outcome_already_recorded": {409},
    "outside_contact_hours": {422},
    "payload_too_large": {413},
    "plan_in_progress": {409},
    "plan_stale": {409},
    "precondition_failed": {412},
    "precondition_required": {428},
    "publish_in_progress": {409},
    "refresh_token_reused": {401},
    "resolution_required": {422},
    "service_unavailable": {503},
    "too_many_attempts": {429},
    "too_many_requests": {429},
    "unauthorized": {401},
    "unreadable_file": {422},
    "unsupported_media_type": {415},
    "validation_error": {422},
    "value_out_of_range": {422},
    "visit_frequency_limit": {409},
    "visit_mismatch": {422},
    "visit_required": {422},
}


def error_classes() -> list[type[ProblemError]]:
    for module in pkgutil.walk_packages(field_ops.__path__, "field_ops."):
        importlib.import_module(module.name)
    found, todo = [], [ProblemError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_the_api_answers_exactly_the_codes_clients_know():
    answered: dict[str, set[int]] = {}
    for cls in error_classes():
        answered.setdefault(cls.code, set()).add(cls.status)
    gone = sorted(set(CODES) - set(answered))
    assert not gone, f"codes clients rely on are gone: {gone}"
    changed = {
        code: (CODES[code], statuses) for code, statuses in answered.items() if CODES.get(code, statuses) != statuses
    }
    assert not changed, f"codes answered with another status: {changed}"
    new = sorted(set(answered) - set(CODES))
    assert not new, f"new codes {new}: add them to CODES (and never change them afterwards)"


def test_every_refusal_lives_in_an_errors_module_of_its_domain_or_core():
    places = {cls.__module__ for cls in error_classes() if cls.__module__.startswith("field_ops.")}
    stray = sorted(p for p in places if not (p.endswith(".errors") or p.startswith("field_ops.core.")))
    assert not stray, f"refusals outside an errors.py: {stray}"


def test_a_field_error_is_the_generic_validation_error_naming_its_field():
    error = field_error("phone", "Not a phone number.")
    assert (error.status, error.code, error.errors) == (422, "validation_error", {"phone": ["Not a phone number."]})
