"""Refusals of the lot-issue domain, each with its stable `code`."""

from __future__ import annotations

from field_ops.core.errors import Forbidden, InvalidTransition, ValidationFailed

__all__ = ["FieldNotAllowedForRole", "InvalidTransition", "NotSameDealership", "ResolutionRequired"]


class ResolutionRequired(ValidationFailed):
    code, title = "resolution_required", "Resolution required"


class NotSameDealership(ValidationFailed):
    code, title = "not_same_dealership", "Not of the issue's dealership"


class FieldNotAllowedForRole(Forbidden):
    code, title = "field_not_allowed_for_role", "Your role may not change this field"
