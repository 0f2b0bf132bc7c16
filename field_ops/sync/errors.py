from __future__ import annotations

from field_ops.core.errors import ValidationFailed


class InvalidCursor(ValidationFailed):
    code, title = "invalid_cursor", "Invalid sync cursor"
