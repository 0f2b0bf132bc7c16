"""Many writers at once: one If-Match wins once, idempotent outcomes, the frequency limit and
route plans hold when the requests really overlap (threads, each with its own connection)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from tests.concurrency import at_once
from tests.timing import days_ahead, iso, local, recent_daytime

# Threads, other connections or jobs with their own transactions: data must really commit.
pytestmark = pytest.mark.real_commits

WRITERS = 20


@pytest.fixture
def office(make_user, login):
    return login(make_user("admin"))


def _targets(lot, make_account, make_visit, make_user):
    account = make_account(lot)
    start = days_ahead(3, "10:00")
    visit = make_visit(account, start, start + timedelta(hours=1))
    user = make_user("rep", dealerships=[lot])
    return {
        "visit": (f"/api/v1/visits/{visit.id}", lambda i: {"notes": f"note {i}"}),
        "account": (f"/api/v1/accounts/{account.id}", lambda i: {"days_past_due": 100 + i}),
        "dealership": (f"/api/v1/dealerships/{lot.id}", lambda i: {"name": f"Lot renamed {i}"}),
        "user": (f"/api/v1/users/{user.id}", lambda i: {"name": f"Rep renamed {i}"}),
    }


@pytest.mark.parametrize("kind", ["visit", "account", "dealership", "user"])
def test_twenty_editors_holding_one_etag_leave_exactly_one_change(
    app, client, office, lot, make_account, make_visit, make_user, kind
):
    path, body = _targets(lot, make_account, make_visit, make_user)[kind]
    etag = client.get(path, headers=office).headers["ETag"]

    answers = at_once(app, WRITERS, lambda c, i: c.patch(path, json=body(i), headers={**office, "If-Match": etag}))

    statuses = Counter(response.status_code for response in answers)
    print(f"{WRITERS} concurrent PATCH {kind} with one If-Match: {dict(sorted(statuses.items()))}")
    assert statuses == {200: 1, 412: WRITERS - 1}, statuses
    winner = next(response for response in answers if response.status_code == 200)
    assert client.get(path, headers=office).json == winner.json
    assert all(r.content_type == "application/problem+json" for r in answers if r.status_code == 412)


@pytest.fixture
def postgresql_only(app):
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("concurrent transactions: SQLite runs one writer at a time anyway")


def test_twenty_phones_retrying_one_outcome_at_once_record_it_once(
    app, client, postgresql_only, lot, make_user, make_account, make_visit, login
):
    from sqlalchemy import func, select

    from field_ops.core.db import transaction
    from field_ops.visits.models import Outcome

    rep = make_user("rep", dealerships=[lot])
    headers = login(rep)
    at = recent_daytime()
    appointment = make_visit(make_account(lot), at, at + timedelta(hours=1), rep=rep, kind="dealership_appointment")
    body = {"outcome": "payment_collected", "amount_collected": "99.99", "payment_method": "cash"}

    answers = at_once(
        app,
        WRITERS,
        lambda c, i: c.post(
            f"/api/v1/visits/{appointment.id}/outcome", json=body, headers={**headers, "Idempotency-Key": "one-tap"}
        ),
    )

    assert {r.status_code for r in answers} == {201}, Counter(r.status_code for r in answers)
    assert len({r.get_data() for r in answers}) == 1
    with app.app_context(), transaction() as session:
        count = session.scalar(select(func.count()).select_from(Outcome).where(Outcome.visit_id == appointment.id))
    assert count == 1


def test_twenty_bookings_at_once_never_pass_the_visit_frequency_limit(
    app, postgresql_only, lot, make_user, make_account, login
):
    specialist = login(make_user("specialist"))
    account = make_account(lot)
    limit = app.config["VISIT_FREQUENCY_LIMIT"]
    day = days_ahead(2, "00:00").date()

    def book(c, i):
        start = local(day, f"{9 + i // 2:02d}:{30 * (i % 2):02d}")
        body = {"account_id": account.id, "window_start": iso(start), "window_end": iso(start + timedelta(minutes=30))}
        return c.post("/api/v1/visits", json=body, headers=specialist)

    answers = at_once(app, WRITERS, book)

    statuses = Counter(r.status_code for r in answers)
    assert statuses == {201: limit, 409: WRITERS - limit}, statuses
    assert {r.json["code"] for r in answers if r.status_code == 409} == {"visit_frequency_limit"}
    listed = app.test_client().get(f"/api/v1/visits?account_id={account.id}", headers=specialist).json
    assert len(listed) == limit
