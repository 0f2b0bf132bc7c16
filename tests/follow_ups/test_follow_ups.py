from datetime import timedelta

import pytest

from field_ops.core.db import transaction
from field_ops.follow_ups.service import raise_follow_ups, visit_cause
from tests.closing import listing, record_outcome, run_job, visit_today
from tests.timing import days_ahead, iso, local, local_today


@pytest.fixture
def headers(login, specialist):
    return login(specialist)


@pytest.fixture
def account(make_account, lot):
    return make_account(lot)


def follow_ups(client, headers, query=""):
    return listing(client, headers, f"/api/v1/follow-ups{query}")


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        ("customer_moved", "skip_trace"),
        ("wrong_address", "skip_trace"),
        ("appointment_set", "dealership_appointment"),
    ],
)
def test_an_outcome_raises_its_follow_up_due_the_same_day(client, headers, make_visit, account, lot, outcome, kind):
    visit = visit_today(make_visit, account)
    record_outcome(client, headers, visit, outcome=outcome)
    [item] = follow_ups(client, headers)
    assert item["kind"] == kind
    assert item["status"] == "open"
    assert (item["account_id"], item["visit_id"], item["dealership_id"]) == (account.id, visit.id, lot.id)
    assert item["due_date"] == local_today().isoformat()
    trail = listing(client, headers, f"/api/v1/audit?entity_type=follow_up&entity_id={item['id']}")
    assert [e["action"] for e in trail] == ["follow_up.raised"]


@pytest.mark.real_commits
def test_each_follow_up_cause_is_raised_once_and_only_once(app, client, headers, make_visit, account):
    moved = visit_today(make_visit, account)
    record_outcome(client, headers, moved, outcome="customer_moved")
    yesterday = local(local_today() - timedelta(days=1), "12:00")
    missed = make_visit(account, yesterday, yesterday + timedelta(hours=1))

    run_job(app)
    run_job(app, day=local_today() - timedelta(days=1))
    with app.app_context(), transaction() as session:
        # The same causes raised again, as a racing transaction would: the database skips them.
        again = raise_follow_ups(
            session,
            actor=None,
            causes=[
                visit_cause("skip_trace", moved.id, account.dealership_id, account.id, local_today()),
                visit_cause("rebook_missed_visit", missed.id, account.dealership_id, account.id, local_today()),
            ],
        )
    assert again == []
    kinds = sorted((f["kind"], f["visit_id"]) for f in follow_ups(client, headers))
    assert kinds == [("rebook_missed_visit", missed.id), ("skip_trace", moved.id)]


def test_a_specialist_closes_a_follow_up_and_a_closed_one_stays_closed(client, headers, make_visit, account):
    record_outcome(client, headers, visit_today(make_visit, account), outcome="wrong_address")
    [item] = follow_ups(client, headers)
    path = f"/api/v1/follow-ups/{item['id']}"
    etag = client.get(path, headers=headers).headers["ETag"]

    assert client.patch(path, json={"status": "dismissed"}, headers={**headers, "If-Match": etag}).status_code == 422
    assert client.patch(path, json={"status": "done"}, headers=headers).status_code == 428
    response = client.patch(
        path, json={"status": "done", "note": "New address found"}, headers={**headers, "If-Match": etag}
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "done"
    assert response.json["note"] == "New address found"

    stale = client.patch(path, json={"status": "dismissed", "note": "x"}, headers={**headers, "If-Match": etag})
    assert stale.status_code == 412
    fresh = {**headers, "If-Match": response.headers["ETag"]}
    again = client.patch(path, json={"status": "dismissed", "note": "x"}, headers=fresh)
    assert again.status_code == 409
    assert again.json["code"] == "invalid_transition"
    assert follow_ups(client, headers, "?status=open") == []
    assert len(follow_ups(client, headers, "?status=done&kind=skip_trace")) == 1


def book(client, headers, account, follow_up_id):
    start = days_ahead(2, "10:00")
    body = {
        "account_id": account.id,
        "window_start": iso(start),
        "window_end": iso(start + timedelta(hours=2)),
        "follow_up_id": follow_up_id,
    }
    return client.post("/api/v1/visits", json=body, headers=headers)


def test_booking_a_visit_for_a_follow_up_closes_it_in_the_same_request(
    client, headers, make_visit, make_account, account, lot
):
    record_outcome(client, headers, visit_today(make_visit, account), outcome="customer_moved")
    [item] = follow_ups(client, headers)

    other = make_account(lot)
    refused = book(client, headers, other, item["id"])
    assert refused.status_code == 422
    assert "follow_up_id" in refused.json["errors"]
    assert book(client, headers, account, 999999).status_code == 422
    assert len(listing(client, headers, f"/api/v1/visits?account_id={other.id}")) == 0

    booked = book(client, headers, account, item["id"])
    assert booked.status_code == 201, booked.json
    assert booked.json["follow_up_id"] == item["id"]
    closed = client.get(f"/api/v1/follow-ups/{item['id']}", headers=headers).json
    assert closed["status"] == "done"

    twice = book(client, headers, account, item["id"])
    assert twice.status_code == 409
    assert twice.json["code"] == "follow_up_closed"


def test_follow_ups_are_scoped_like_visits(
    client, login, make_user, make_dealership, make_account, make_visit, headers
):
    lot_a, lot_b = make_dealership(), make_dealership()
    for lot in (lot_a, lot_b):
        record_outcome(client, headers, visit_today(make_visit, make_account(lot)), outcome="customer_moved")
    manager = login(make_user("manager", dealerships=[lot_a]))
    mine = follow_ups(client, manager)
    assert [f["dealership_id"] for f in mine] == [lot_a.id]
    assert follow_ups(client, manager, f"?dealership_id={lot_b.id}") == []
    theirs = follow_ups(client, headers, f"?dealership_id={lot_b.id}")[0]
    assert client.get(f"/api/v1/follow-ups/{theirs['id']}", headers=manager).status_code == 404
    rep = login(make_user("rep", dealerships=[lot_a]))
    assert client.get("/api/v1/follow-ups", headers=rep).status_code == 403
