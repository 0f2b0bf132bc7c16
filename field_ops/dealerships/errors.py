"""Refusals of the dealerships domain, each with its stable `code`."""

from __future__ import annotations

from field_ops.core.errors import Conflict


class DealershipCodeTaken(Conflict):
    code, title = "dealership_code_taken", "Dealership code already in use"
