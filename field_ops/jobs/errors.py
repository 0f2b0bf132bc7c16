from __future__ import annotations

from field_ops.core.errors import ValidationFailed


class DayNotOver(ValidationFailed):
    code, title = "day_not_over", "That day has not begun yet"
