"""Many writers at once: one If-Match wins once, idempotent outcomes, the frequency limit and
route plans hold when the requests really overlap (threads, each with its own connection)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from tests.timing import days_ahead

WRITERS = 20


def at_once(app, n, request):
    """Run `request(client, i)` in n threads released together; returns the responses."""
    barrier = threading.Barrier(n)
    answers: list = [None] * n

    def run(i):
        client = app.test_client()
        barrier.wait()
        answers[i] = request(client, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(answer is not None for answer in answers)
    return answers


@pytest.fixture
def lot(make_dealership):
    return make_dealership()


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
    assert statuses == {200: 1, 412: WRITERS - 1}, statuses
    winner = next(response for response in answers if response.status_code == 200)
    assert client.get(path, headers=office).json == winner.json
    assert all(r.content_type == "application/problem+json" for r in answers if r.status_code == 412)
