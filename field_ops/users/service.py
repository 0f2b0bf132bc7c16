"""Users: who may sign in, with which role, for which dealerships."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from field_ops.core.audit import AuditedUpdate, record_created
from field_ops.core.errors import NotFound, field_error
from field_ops.core.passwords import hash_password
from field_ops.users.errors import EmailTaken, LastAdmin, RepNotOnLot
from field_ops.users.models import Role, User, user_dealerships
from field_ops.users.signals import logins_ended


def _ensure_another_admin(session: Session, user: User) -> None:
    others = session.scalar(
        select(func.count()).where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise LastAdmin("This is the last active admin: make another admin first.")


def _no_lot(user: User) -> None:
    """A user's audit entries belong to no one lot."""


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _load_dealerships(session: Session, dealership_ids: list[int]) -> list[Any]:
    # The mapped class behind `User.dealerships`: dealerships build on users, not the other way round.
    Dealership = User.dealerships.property.mapper.class_  # noqa: N806
    wanted = set(dealership_ids)
    found = list(session.scalars(select(Dealership).where(Dealership.id.in_(wanted)))) if wanted else []
    missing = wanted - {d.id for d in found}
    if missing:
        raise field_error("dealership_ids", f"Unknown dealership id(s): {sorted(missing)}.")
    return found


def _ensure_email_free(session: Session, email: str, user_id: int | None = None) -> None:
    existing = session.scalar(select(User.id).where(User.email == email))
    if existing is not None and existing != user_id:
        raise EmailTaken(f"A user with email {email} already exists.")


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "dealership_ids": user.dealership_ids,
        "active": user.active,
        "shift_start": user.shift_start,
        "shift_end": user.shift_end,
    }


def _check_shift(start: str | None, end: str | None) -> None:
    if start and end and start >= end:
        raise field_error("shift_end", "A shift ends after it starts, on the same day.")


def get_user(session: Session, user_id: int) -> User:
    """Raises NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


def list_users_query(role: str | None = None, active: bool | None = None, dealership_id: int | None = None) -> Select:
    stmt = select(User).order_by(User.id).options(selectinload(User.dealerships))  # a page's lots in one read
    if role:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if dealership_id is not None:
        stmt = stmt.where(
            User.id.in_(select(user_dealerships.c.user_id).where(user_dealerships.c.dealership_id == dealership_id))
        )
    return stmt


def create_user(
    session: Session,
    *,
    actor: User | None,
    email: str,
    name: str,
    role: str,
    password: str,
    dealership_ids: list[int] | None = None,
    active: bool = True,
    shift_start: str | None = None,
    shift_end: str | None = None,
) -> User:
    """Raises EmailTaken (409) and a 422 for unknown dealership ids."""
    email = _normalise_email(email)
    _ensure_email_free(session, email)
    _check_shift(shift_start, shift_end)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        active=active,
        shift_start=shift_start,
        shift_end=shift_end,
        dealerships=_load_dealerships(session, dealership_ids or []),
    )
    session.add(user)
    record_created(
        session, user, actor=actor, action="user.created", entity_type="user", values=_snapshot(user), lot_of=_no_lot
    )
    return user


def update_user(session: Session, *, actor: User, user: User, changes: dict[str, Any]) -> User:
    """Apply a PATCH. Deactivating ends every login of the user at once. Raises EmailTaken, 422."""
    audit = AuditedUpdate(user, _snapshot)
    losing_admin = user.role == Role.ADMIN and user.active
    if losing_admin and (changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("active") is False):
        _ensure_another_admin(session, user)
    if "email" in changes:
        email = _normalise_email(changes["email"])
        _ensure_email_free(session, email, user.id)
        user.email = email
    if "name" in changes:
        user.name = changes["name"].strip()
    if "role" in changes:
        user.role = changes["role"]
    if "dealership_ids" in changes:
        user.dealerships = _load_dealerships(session, changes["dealership_ids"])
    if "active" in changes:
        user.active = changes["active"]
        if not user.active:
            logins_ended.send(session, user_id=user.id, reason="deactivated")
    for name in ("shift_start", "shift_end"):
        if name in changes:
            setattr(user, name, changes[name])
    _check_shift(user.shift_start, user.shift_end)
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
        logins_ended.send(session, user_id=user.id, reason="password_changed")
    also = {"password": ["***", "***"]} if "password" in changes else None
    audit.record(session, actor=actor, action="user.updated", entity_type="user", lot_of=_no_lot, also=also)
    return user


def active_reps_of_lot(session: Session, dealership_id: int) -> list[User]:
    """The lot's active reps, by id."""
    stmt = (
        select(User)
        .join(user_dealerships, user_dealerships.c.user_id == User.id)
        .where(user_dealerships.c.dealership_id == dealership_id, User.role == Role.REP, User.active.is_(True))
        .order_by(User.id)
    )
    return list(session.scalars(stmt))


def active_rep_of_lot(session: Session, rep_id: int, dealership_id: int, *, field: str) -> User:
    """The user `rep_id` if an active rep of the lot; RepNotOnLot on `field` otherwise."""
    rep = session.get(User, rep_id)
    if rep is None or rep.role != Role.REP:
        raise RepNotOnLot.at(field, f"User {rep_id} is not a rep.")
    if not rep.active:
        raise RepNotOnLot.at(field, f"Rep {rep_id} is inactive.")
    if dealership_id not in rep.dealership_ids:
        raise RepNotOnLot.at(field, f"Rep {rep_id} does not work for this dealership.")
    return rep
