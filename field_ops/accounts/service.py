"""Accounts: the customers reps visit, where they live, and what may not be done with them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Protocol

import phonenumbers
from geopy.distance import great_circle
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session

from field_ops.accounts.errors import AccountNumberTaken, RestrictionNoteRequired
from field_ops.accounts.models import RESTRICTIONS, Account
from field_ops.accounts.signals import account_moving_lot, account_restricted, rep_account_ids
from field_ops.core.audit import AuditedUpdate, field_changes, record_audit, record_created
from field_ops.core.errors import NotFound, field_error
from field_ops.dealerships.models import Dealership
from field_ops.geocoding.service import CHECK_IN, MAX_KM_FROM_ZIP, POSTAL_CODE_CENTROID, locate, relocate
from field_ops.users.models import Role, User
from field_ops.users.scope import ensure_visible, get_scoped, scoped

AGING_BUCKET_RANGES = {"1-30": (1, 30), "31-60": (31, 60), "61-90": (61, 90), "91+": (91, None)}


def _ensure_no_open_visits(session: Session, account: Account) -> None:
    """An account changes lot only without open visits (they belong to the old lot's reps and
    routes): the visits domain refuses with AccountHasOpenVisits."""
    account_moving_lot.send(session, account=account)


def normalise_phone(raw: str | None) -> str | None:
    """E.164 for a US (or explicitly international) number; raises a 422 on `phone`."""
    if raw is None or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, "US")
    except phonenumbers.NumberParseException as exc:
        raise field_error("phone", f"{raw!r} is not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise field_error("phone", f"{raw!r} is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _snapshot(account: Account) -> dict[str, Any]:
    return {
        "account_number": account.account_number,
        "dealership_id": account.dealership_id,
        "customer_name": account.customer_name,
        "phone": account.phone,
        "address": account.address,
        "latitude": account.latitude,
        "longitude": account.longitude,
        "timezone": account.timezone,
        "geocode_source": account.geocode_source,
        "days_past_due": account.days_past_due,
        "amount_due": account.amount_due,
        "balance": account.balance,
    }


def _ensure_number_free(session: Session, number: str, account_id: int | None = None) -> None:
    """Account numbers are unique ignoring case: people type "bnt-10001" for "BNT-10001"."""
    existing = session.scalar(
        select(Account.id).where(func.lower(Account.account_number) == number.lower(), Account.id != (account_id or -1))
    )
    if existing is not None:
        raise AccountNumberTaken(f"Account number {number} is already in use.")


def _ensure_dealership(session: Session, actor: User, dealership_id: int) -> None:
    if session.get(Dealership, dealership_id) is None:
        raise field_error("dealership_id", f"Unknown dealership {dealership_id}.")
    ensure_visible(actor, dealership_id, "Dealership")


def get_account(session: Session, actor: User, account_id: int) -> Account:
    """Raises NotFound, also for an account of a lot outside the actor's scope."""
    account = get_scoped(session, Account, account_id, actor, "Account")
    if actor.role == Role.REP:
        own = select(Account.id).where(Account.id == account.id, Account.id.in_(_accounts_of_reps_visits(actor)))
        if session.scalar(own) is None:
            raise NotFound("Account not found.")
    return account


def _accounts_of_reps_visits(actor: User) -> Select:
    """A rep reads only the accounts of the visits assigned to them (answered by the visits domain;
    no answer: none)."""
    for _receiver, ids in rep_account_ids.send(actor):
        if ids is not None:
            return ids
    return select(Account.id).where(false())


def list_accounts_query(
    actor: User,
    *,
    dealership_id: int | None = None,
    days_past_due_min: int | None = None,
    days_past_due_max: int | None = None,
    aging_bucket: str | None = None,
    restricted: bool | None = None,
    q: str | None = None,
) -> Select:
    stmt = scoped(select(Account), actor, Account.dealership_id)
    if actor.role == Role.REP:
        stmt = stmt.where(Account.id.in_(_accounts_of_reps_visits(actor)))
    if dealership_id is not None:
        stmt = stmt.where(Account.dealership_id == dealership_id)
    if days_past_due_min is not None:
        stmt = stmt.where(Account.days_past_due >= days_past_due_min)
    if days_past_due_max is not None:
        stmt = stmt.where(Account.days_past_due <= days_past_due_max)
    if aging_bucket:
        low, high = AGING_BUCKET_RANGES[aging_bucket]
        stmt = stmt.where(Account.days_past_due >= low)
        if high is not None:
            stmt = stmt.where(Account.days_past_due <= high)
    if restricted is not None:
        any_restriction = or_(*(getattr(Account, name).is_(True) for name in RESTRICTIONS))
        stmt = stmt.where(any_restriction if restricted else ~any_restriction)
    if q:
        term = q.strip().lower()
        # `%` and `_` typed by a user are literal characters, not wildcards.
        matches = [
            func.lower(Account.customer_name).contains(term, autoescape=True),
            func.lower(Account.account_number).contains(term, autoescape=True),
        ]
        digits = re.sub(r"\D", "", term)
        if len(digits) >= 3:
            matches.append(Account.phone.contains(digits, autoescape=True))
        stmt = stmt.where(or_(*matches))
    return stmt.order_by(Account.id)


def _apply_restrictions(account: Account, wanted: dict[str, bool], note: str | None) -> dict[str, list[Any]]:
    """Set restriction flags; a change needs a note saying why. Returns `{field: [old, new]}`."""
    changed: dict[str, list[Any]] = {
        name: [getattr(account, name), value] for name, value in wanted.items() if getattr(account, name) != value
    }
    if not changed:
        return {}
    if not (note and note.strip()):
        raise RestrictionNoteRequired.at(
            "restriction_note", "Say why the restrictions change (who asked, what document)."
        )
    changed["restriction_note"] = [account.restriction_note, None]
    for name in RESTRICTIONS:
        if name in changed:
            setattr(account, name, changed[name][1])
    account.restriction_note = changed["restriction_note"][1] = note.strip()
    return changed


def _audit_restrictions(session: Session, actor: User | None, account: Account, changed: dict[str, list[Any]]) -> None:
    record_audit(
        session,
        actor=actor,
        action="account.restrictions_changed",
        entity_type="account",
        entity_id=account.id,
        dealership_id=account.dealership_id,
        changes=changed,
    )


def create_account(session: Session, *, actor: User, **values: Any) -> Account:
    """Raises AccountNumberTaken (409) and 422s naming the field (address, phone, note)."""
    number = values["account_number"].strip()
    _ensure_number_free(session, number)
    _ensure_dealership(session, actor, values["dealership_id"])
    account = Account(
        account_number=number,
        dealership_id=values["dealership_id"],
        customer_name=values["customer_name"].strip(),
        phone=normalise_phone(values.get("phone")),
        days_past_due=values.get("days_past_due", 0),
        amount_due=values.get("amount_due") or Decimal("0.00"),
        balance=values.get("balance") or Decimal("0.00"),
        restriction_note=values.get("restriction_note"),
        **{name: False for name in RESTRICTIONS},
    )
    locate(account, values)
    changed = _apply_restrictions(account, values.get("restrictions") or {}, values.get("restriction_note"))
    session.add(account)
    record_created(
        session, account, actor=actor, action="account.created", entity_type="account", values=_snapshot(account)
    )
    if changed:
        _audit_restrictions(session, actor, account, changed)
    return account


def update_account(session: Session, *, actor: User, account: Account, changes: dict[str, Any]) -> Account:
    """Apply a PATCH. Raises AccountNumberTaken and 422s naming the field."""
    audit = AuditedUpdate(account, _snapshot)
    if "account_number" in changes:
        _ensure_number_free(session, changes["account_number"].strip(), account.id)
        account.account_number = changes["account_number"].strip()
    if "dealership_id" in changes and changes["dealership_id"] != account.dealership_id:
        _ensure_dealership(session, actor, changes["dealership_id"])
        _ensure_no_open_visits(session, account)
        account.dealership_id = changes["dealership_id"]
    if "customer_name" in changes:
        account.customer_name = changes["customer_name"].strip()
    if "phone" in changes:
        account.phone = normalise_phone(changes["phone"])
    for name in ("days_past_due", "amount_due", "balance"):
        if name in changes:
            setattr(account, name, changes[name])
    relocate(account, changes)
    restrictions_changed = _apply_restrictions(
        account, changes.get("restrictions") or {}, changes.get("restriction_note")
    )
    if "restriction_note" in changes and not restrictions_changed:
        account.restriction_note = changes["restriction_note"]
    audit.record(session, actor=actor, action="account.updated", entity_type="account")
    if restrictions_changed:
        _audit_restrictions(session, actor, account, restrictions_changed)
        if any(restrictions_changed[name][1] for name in RESTRICTIONS if name in restrictions_changed):
            account_restricted.send(session, actor=actor, account=account, reason="contact_restricted")
    return account


# Outcomes a rep can only record standing at the customer's door.
AT_THE_DOOR = frozenset({"payment_collected", "promise_to_pay", "not_home", "refused", "vehicle_surrendered"})
LEARN_PIN_ACCURACY_M = 50.0


class CheckIn(Protocol):
    check_in_latitude: float | None
    check_in_longitude: float | None
    check_in_accuracy_m: float | None


def learn_pin_from_check_in(
    session: Session, *, actor: User | None, account: Account, check_in: CheckIn, outcome: str
) -> bool:
    """Move a ZIP-centroid pin to the door: the rep checked in with good accuracy and recorded
    an outcome that proves they were there. Never moves a given or geocoded (or learned) pin."""
    latitude, longitude = check_in.check_in_latitude, check_in.check_in_longitude
    accuracy = check_in.check_in_accuracy_m
    if outcome not in AT_THE_DOOR or latitude is None or longitude is None:
        return False
    if accuracy is None or accuracy > LEARN_PIN_ACCURACY_M or account.geocode_source != POSTAL_CODE_CENTROID:
        return False
    if great_circle((account.latitude, account.longitude), (latitude, longitude)).km > MAX_KM_FROM_ZIP:
        return False  # nowhere near the account's ZIP code: a wrong address or a bad fix, not a better pin
    before = {"latitude": account.latitude, "longitude": account.longitude, "geocode_source": account.geocode_source}
    account.latitude, account.longitude, account.geocode_source = latitude, longitude, CHECK_IN
    session.flush()
    after = {"latitude": latitude, "longitude": longitude, "geocode_source": CHECK_IN}
    record_audit(
        session,
        actor=actor,
        action="account.pin_learned",
        entity_type="account",
        entity_id=account.id,
        dealership_id=account.dealership_id,
        changes=field_changes(before, after),
    )
    return True
