"""Which dealerships a user may see: the one rule every list and single read goes through."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, true
from sqlalchemy.orm import Session

from field_ops.core.errors import NotFound
from field_ops.users.models import User

T = TypeVar("T")


def visible_dealership_ids(user: User | None) -> set[int] | None:
    """None means every dealership (admin, specialist, or the system itself: CLI and jobs)."""
    if user is None or user.sees_all_dealerships:
        return None
    return set(user.dealership_ids)


def in_scope(user: User, dealership_column: ColumnElement) -> ColumnElement[bool]:
    ids = visible_dealership_ids(user)
    if ids is None:
        return true()
    if not ids:
        return false()
    return dealership_column.in_(ids)


def scoped(stmt: Select, user: User, dealership_column: ColumnElement) -> Select:
    return stmt.where(in_scope(user, dealership_column))


def can_see_dealership(user: User | None, dealership_id: int | None) -> bool:
    ids = visible_dealership_ids(user)
    return ids is None or (dealership_id is not None and dealership_id in ids)


def ensure_visible(user: User | None, dealership_id: int | None, what: str = "Resource") -> None:
    """404, not 403, for another lot's record: its existence is not revealed."""
    if not can_see_dealership(user, dealership_id):
        raise NotFound(f"{what} not found.")


def get_scoped(
    session: Session,
    model: type[T],
    ident: Any,
    actor: User | None,
    what: str,
    *,
    lot_of: Callable[[Any], int | None] = attrgetter("dealership_id"),
) -> T:
    """The row of `model` with this id, if the actor may see its lot; NotFound (404) when it is
    missing or of another lot (`lot_of` reads the row's dealership id; a dealership's is its id)."""
    row = session.get(model, ident)
    if row is None:
        raise NotFound(f"{what} not found.")
    ensure_visible(actor, lot_of(row), what)
    return row
