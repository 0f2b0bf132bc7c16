"""Refusals of the users domain, each with its stable `code`."""

from __future__ import annotations

from field_ops.core.errors import Conflict, ValidationFailed


class EmailTaken(Conflict):
    code, title = "email_taken", "Email already in use"


class LastAdmin(Conflict):
    code, title = "last_admin", "The last active admin"


class RepNotOnLot(ValidationFailed):
    """The user named as a rep is not an active rep of the lot."""

    title = "Not an active rep of this lot"
