"""What accounts announce to the domains built on them (visits).

Accounts sit below visits, so they never import them: a lot change asks the receivers
whether the account may move, a restriction tells them to react, and a rep's reading scope
asks them which accounts the rep works. `field_ops.visits.receivers` answers all three.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

account_moving_lot = _signals.signal(
    "account-moving-lot",
    doc="Sent with the session as sender and `account=`, before an account changes lot; a receiver "
    "raises a ProblemError to refuse the move.",
)
account_restricted = _signals.signal(
    "account-restricted",
    doc="Sent with the session as sender and `actor=`, `account=`, `reason=`, in the request's "
    "transaction, when an account gains a contact restriction.",
)
rep_account_ids = _signals.signal(
    "rep-account-ids",
    doc="Sent with the rep as sender; a receiver returns a SELECT of the account ids the rep works.",
)
