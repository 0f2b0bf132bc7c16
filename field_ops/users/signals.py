"""What users announce to the domains built on them (auth)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

logins_ended = _signals.signal(
    "logins-ended",
    doc="Sent with the session as sender and `user_id=`, `reason=` when a user's logins must end "
    "(deactivated, password changed); auth revokes them in the same transaction.",
)
