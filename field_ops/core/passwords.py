"""Password hashing with Argon2id (argon2-cffi); cost settings come from the config."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# A fixed hash to verify against when the email is unknown, so a miss costs as much as a hit.
_DUMMY_PASSWORD = "not-a-real-password"


def _hasher() -> PasswordHasher:
    config = current_app.config
    key = (config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_COST"])
    cache = current_app.extensions.setdefault("password_hashers", {})
    if key not in cache:
        cache[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return cache[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _dummy_hash(hasher: PasswordHasher) -> str:
    """One hash made once per cost setting: an unknown email costs one verify, like a known one."""
    dummies = current_app.extensions.setdefault("password_dummy_hashes", {})
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in dummies:
        dummies[key] = hasher.hash(_DUMMY_PASSWORD)
    return dummies[key]


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    if password_hash is None:
        password_hash, password = _dummy_hash(hasher), password + "x"
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
