"""Outcomes queued on a phone, sent at once when it is back online: each item on its own."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from field_ops.core import idempotency
from field_ops.core.errors import ProblemError, ValidationFailed, flatten_messages, problem_of
from field_ops.users.models import User
from field_ops.visits.schemas import OutcomeBatchItemSchema, OutcomeSchema
from field_ops.visits.service import record_outcome


def outcome_target(visit_id: Any) -> str:
    """What an outcome's Idempotency-Key is bound to, the same for the single and batch endpoints."""
    return f"/visits/{visit_id}/outcome"


def record_outcomes_batch(session: Session, *, actor: User, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per item, in order; each item is atomic on its own (a savepoint), so a bad
    item loses nothing of the others, and replays are recognised per item."""
    results = []
    item_schema = OutcomeBatchItemSchema()
    for raw in items:
        visit_id, key = raw.get("visit_id"), raw.get("idempotency_key")
        try:
            try:
                fields = item_schema.load(raw)
            except ValidationError as exc:
                errors = flatten_messages(exc.messages)
                if set(errors) == {"idempotency_key"} and not key:
                    idempotency.check_key(key)
                raise ValidationFailed.from_errors(errors) from exc
            payload = {k: v for k, v in raw.items() if k not in ("visit_id", "idempotency_key")}
            fields = {k: v for k, v in fields.items() if k not in ("visit_id", "idempotency_key")}

            def act(visit_id=visit_id, fields=fields) -> tuple[int, str]:
                outcome = record_outcome(session, actor=actor, visit_id=visit_id, fields=fields)
                return 201, OutcomeSchema().dumps(outcome)

            stored = idempotency.run_keyed(
                session, user_id=actor.id, key=key, target=outcome_target(visit_id), payload=payload, action=act
            )
            results.append(
                {"visit_id": visit_id, "idempotency_key": key, "status": stored.status, "body": json.loads(stored.body)}
            )
        except ProblemError as error:
            results.append(
                {"visit_id": visit_id, "idempotency_key": key, "status": error.status, "body": problem_of(error)}
            )
    return results
