"""Idempotency keys: a retried write returns the first answer again instead of acting twice.

A key is scoped to the user. The record is inserted in the same transaction as the write it
guards, before the write, under a unique constraint: when two requests with one key arrive
at once, the second blocks on that insert until the first commits, then fails it and replays
the stored answer. Records are kept at least `IDEMPOTENCY_RETENTION_DAYS`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Response
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from field_ops.core.db import Base, UTCDateTime, utcnow
from field_ops.core.digest import sha256_hex
from field_ops.core.errors import ProblemError, ValidationFailed


class IdempotencyKeyReused(ValidationFailed):
    code, title = "idempotency_key_reused", "Idempotency key reused with another request"


class IdempotencyKeyRequired(ProblemError):
    status, code, title = 428, "idempotency_key_required", "Idempotency-Key header required"


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_records_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column()
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str
    replayed: bool


def fingerprint(target: str, payload: Any) -> str:
    """What makes two requests "the same": the target and the body, key order ignored."""
    canonical = json.dumps({"target": target, "payload": payload}, sort_keys=True, separators=(",", ":"), default=str)
    return sha256_hex(canonical)


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise IdempotencyKeyRequired("Send an Idempotency-Key header (a UUID per outcome) so retries are safe.")
    key = key.strip()
    if len(key) > 255:
        raise ValidationFailed("Idempotency-Key is too long.", errors={"Idempotency-Key": ["At most 255 characters."]})
    return key


def _replay(record: IdempotencyRecord, request_fingerprint: str) -> StoredResponse:
    if record.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request.")
    return StoredResponse(status=record.response_status or 200, body=record.response_body or "", replayed=True)


def run_once(
    session: Session,
    *,
    user_id: int,
    key: str,
    request_fingerprint: str,
    action: Callable[[], tuple[int, str]],
) -> StoredResponse:
    """Run `action` (returning status and body text) once per (user, key), in a savepoint.

    A replay with the same fingerprint returns the stored answer; another fingerprint raises
    IdempotencyKeyReused. If `action` raises, the savepoint is rolled back and nothing is kept,
    so the client may retry the same key after fixing the cause.
    """
    lookup = select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    existing = session.scalar(lookup)
    if existing is not None:
        return _replay(existing, request_fingerprint)
    savepoint = session.begin_nested()
    try:
        record = IdempotencyRecord(user_id=user_id, key=key, fingerprint=request_fingerprint)
        session.add(record)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        # Someone else's request with this key committed while we waited on the insert.
        return _replay(session.scalars(lookup.execution_options(populate_existing=True)).one(), request_fingerprint)
    try:
        status, body = action()
        record.response_status, record.response_body = status, body
        session.flush()
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return StoredResponse(status=status, body=body, replayed=False)


def run_keyed(
    session: Session, *, user_id: int, key: str | None, target: str, payload: Any, action: Callable[[], tuple[int, str]]
) -> StoredResponse:
    """`run_once` for a request: checks the key (428 when missing) and fingerprints target and body."""
    return run_once(
        session,
        user_id=user_id,
        key=check_key(key),
        request_fingerprint=fingerprint(target, payload),
        action=action,
    )


def respond_once(
    session: Session,
    *,
    user_id: int,
    key: str | None,
    target: str,
    payload: Any,
    action: Callable[[], tuple[int, str]],
    required: bool = True,
    headers: Callable[[StoredResponse], dict[str, str]] | None = None,
) -> Response:
    """The HTTP edge of `run_once`: a JSON response, marked `Idempotent-Replayed: true` on a replay.

    Without a key, a `required` key is a 428; an optional one just runs `action` once. `headers`
    derives extra headers (such as `Location`) from the answer, so a replay carries them too."""
    if key is None and not required:
        status, body = action()
        stored = StoredResponse(status=status, body=body, replayed=False)
    else:
        stored = run_keyed(session, user_id=user_id, key=key, target=target, payload=payload, action=action)
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    if stored.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    if headers is not None:
        response.headers.update(headers(stored))
    return response


def purge_expired(session: Session, *, retention_days: int, now: datetime | None = None) -> int:
    """Delete records older than the retention; returns how many went."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return result.rowcount or 0
