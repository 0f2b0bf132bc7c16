"""The visits domain's answers to what accounts announce (accounts never import visits)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from field_ops.accounts.errors import AccountHasOpenVisits
from field_ops.accounts.models import Account
from field_ops.accounts.signals import account_moving_lot, account_restricted, rep_account_ids
from field_ops.users.models import User
from field_ops.visits.models import Visit, VisitStatus
from field_ops.visits.service import cancel_open_future_visits


@account_moving_lot.connect
def refuse_move_with_open_visits(session: Session, *, account: Account) -> None:
    """An account changes lot only without open visits: they belong to the old lot's reps and routes."""
    open_visit = session.scalar(
        select(Visit.id).where(
            Visit.account_id == account.id, Visit.status.in_([VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN])
        )
    )
    if open_visit is not None:
        raise AccountHasOpenVisits("Cancel or finish the account's open visits before moving it to another lot.")


@account_restricted.connect
def cancel_barred_visits(session: Session, *, actor: User | None, account: Account, reason: str) -> None:
    cancel_open_future_visits(session, actor=actor, account=account, reason=reason)


@rep_account_ids.connect
def accounts_of_reps_visits(rep: User) -> Select:
    """A rep reads only the accounts of the visits assigned to them."""
    return select(Visit.account_id).where(Visit.assigned_rep_id == rep.id)
