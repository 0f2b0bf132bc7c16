from __future__ import annotations

from field_ops.core.errors import Conflict


class FollowUpClosed(Conflict):
    code, title = "follow_up_closed", "Follow-up already closed"
