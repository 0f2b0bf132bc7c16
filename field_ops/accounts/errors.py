"""Refusals of the accounts domain, each with its stable `code`."""

from __future__ import annotations

from field_ops.core.errors import Conflict, ValidationFailed


class AccountNumberTaken(Conflict):
    code, title = "account_number_taken", "Account number already in use"


class AccountHasOpenVisits(Conflict):
    code, title = "account_has_open_visits", "Account has open visits"


class RestrictionNoteRequired(ValidationFailed):
    """A change of restrictions says why (who asked, what document)."""

    title = "Restriction note required"
