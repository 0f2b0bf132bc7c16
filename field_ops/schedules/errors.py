"""Refusals of the schedules domain, each with its stable `code`."""

from __future__ import annotations

from field_ops.core.errors import Conflict, ProblemError, ValidationFailed


class PublishInProgress(Conflict):
    code, title = "publish_in_progress", "The schedule is being published right now"


class UnreadableFile(ValidationFailed):
    code, title = "unreadable_file", "The file cannot be read"


class ImportFailed(ValidationFailed):
    code, title = "import_failed", "Some rows cannot be imported"


class FileTooLarge(ProblemError):
    status, code, title = 413, "file_too_large", "File too large"


class DateRequired(ValidationFailed):
    code, title = "date_required", "No date for the rows"


class CustomerMismatch(ValidationFailed):
    code, title = "customer_mismatch", "Customer name does not match the account"
