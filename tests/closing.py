"""Shared steps for the day-closing tests: field work through HTTP, the job run at a given moment."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from field_ops.jobs.service import RunReport, run_end_of_day
from tests.timing import iso, recent_daytime


def visit_today(make_visit, account, rep=None, **fields):
    at = recent_daytime()
    return make_visit(account, at - timedelta(hours=1), at + timedelta(hours=1), rep=rep, **fields)


def record_outcome(client, headers, visit, **body):
    check_in = {"latitude": 36.37, "longitude": -94.21, "accuracy_m": 8, "recorded_at": iso(recent_daytime())}
    response = client.post(f"/api/v1/visits/{visit.id}/check-in", json=check_in, headers=headers)
    assert response.status_code == 200, response.json
    key = {"Idempotency-Key": str(uuid.uuid4())}
    response = client.post(f"/api/v1/visits/{visit.id}/outcome", json=body, headers={**headers, **key})
    assert response.status_code == 201, response.json
    return response.json


def run_job(app, now: datetime | None = None, **kwargs) -> RunReport:
    with app.app_context():
        return run_end_of_day(app, now=now, **kwargs)


def listing(client, headers, path):
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.json
    return response.json
