"""Each collection figure against a hand-counted fixture: one lot, two reps, two days."""

from datetime import timedelta
from decimal import Decimal

import pytest

from field_ops.core.db import transaction
from field_ops.users.models import User
from field_ops.visits.consequences import apply_outcome_consequences
from field_ops.visits.models import Outcome, Visit
from tests.closing import run_job
from tests.timing import local, local_today

# The fixture closes days with the end-of-day job, which locks and commits on its own connections.
pytestmark = pytest.mark.real_commits

OUTCOME_CODES = [
    "payment_collected",
    "promise_to_pay",
    "not_home",
    "refused",
    "vehicle_not_present",
    "customer_moved",
    "wrong_address",
    "dispute",
    "bankruptcy_claimed",
    "vehicle_surrendered",
    "appointment_set",
    "other",
]


@pytest.fixture
def days():
    today = local_today()
    return {
        "before": today - timedelta(days=20),
        "first": today - timedelta(days=10),
        "last": today - timedelta(days=9),
    }


def add_outcome(app, visit, code, recorder, **fields):
    """An outcome recorded in the past, with what it sets in motion (payment, promise, follow-up)."""
    with app.app_context(), transaction() as session:
        outcome = Outcome(
            visit_id=visit.id,
            outcome=code,
            recorded_at=visit.window_start + timedelta(minutes=30),
            recorded_by=recorder.id,
            **fields,
        )
        session.add(outcome)
        session.flush()
        actor = session.get(User, recorder.id)
        apply_outcome_consequences(session, actor=actor, visit=session.get(Visit, visit.id), outcome=outcome)


def pay(client, headers, account, amount, paid_on, method):
    body = {"amount": amount, "paid_on": paid_on.isoformat(), "method": method}
    response = client.post(f"/api/v1/accounts/{account.id}/payments", json=body, headers=headers)
    assert response.status_code == 201, response.json


@pytest.fixture
def fixture(app, client, login, lot, other_lot, days, make_user, make_account, make_visit):
    """The hand count is in `test_each_figure_of_a_lot_matches_the_hand_count`."""
    alice = make_user("rep", dealerships=[lot], name="Alice Reyes")
    bob = make_user("rep", dealerships=[lot], name="Bob Stone")
    office = make_user("specialist")
    accounts = [
        make_account(lot, days_past_due=dpd, amount_due=Decimal(amount))
        for dpd, amount in [(0, "75.00"), (10, "100.00"), (30, "200.00"), (31, "300.00"), (61, "50.00")]
    ]
    accounts += [
        make_account(lot, days_past_due=91, amount_due=Decimal("1000.10")),
        make_account(lot, days_past_due=150, amount_due=Decimal("10.00")),
    ]
    first, last = days["first"], days["last"]

    def visit(n, day, rep=None, start="10:00", end="11:00", **fields):
        return make_visit(accounts[n], local(day, start), local(day, end), rep=rep, **fields)

    checked = {"checked_in_at": local(first, "10:10")}
    v1 = visit(1, first, alice, status="completed", on_site=True, **checked)
    v2 = visit(2, first, alice, status="completed", on_site=False, **checked)
    v3 = visit(3, last, bob, status="completed", on_site=True, **checked)
    visit(4, last, bob, status="missed")
    visit(5, last, status="cancelled", cancel_reason="customer paid online")
    v6 = visit(6, last, bob, status="completed", kind="dealership_appointment")
    # 20:30 in Chicago is the next day in UTC: it still counts on the lot's date.
    visit(1, last, alice, start="20:30", end="20:59")
    add_outcome(app, v1, "payment_collected", alice, amount_collected=Decimal("100.00"), payment_method="cash")
    add_outcome(
        app, v2, "promise_to_pay", alice, promise_date=last + timedelta(days=5), promise_amount=Decimal("50.00")
    )
    add_outcome(app, v3, "payment_collected", bob, amount_collected=Decimal("25.50"), payment_method="card")
    add_outcome(app, v6, "refused", office)
    # Promises: Alice's at v2 is kept by an office payment after the period; Bob's is short after
    # an online payment and broken by the end-of-day job; Alice's at v8 is not due yet.
    v7 = visit(5, last, bob, start="14:00", end="15:00", status="completed")
    add_outcome(app, v7, "promise_to_pay", bob, promise_date=last + timedelta(days=1), promise_amount=Decimal("80.00"))
    v8 = visit(6, last, alice, start="15:00", end="16:00", status="completed")
    add_outcome(app, v8, "promise_to_pay", alice, promise_date=local_today() + timedelta(days=3), promise_amount=40)
    # A customer who moved: a skip trace due the same day, still open.
    v9 = visit(0, first, bob, start="16:00", end="17:00", status="completed")
    add_outcome(app, v9, "customer_moved", bob)
    office_headers = login(office)
    pay(client, office_headers, accounts[5], "30.00", last, "online")
    pay(client, office_headers, accounts[2], "50.00", first + timedelta(days=2), "check")
    # The end-of-day closing the day after the period: the 20:30 visit is missed, Bob's promise broken.
    report = run_job(app, day=last + timedelta(days=1), dealership_id=lot.id)
    assert [run.counts for run in report.runs] == [{"visits_missed": 1, "promises_broken": 1, "follow_ups_raised": 2}]
    # Outside the range, and at another lot: never counted.
    early = visit(
        1, days["before"], alice, status="completed", on_site=True, checked_in_at=local(days["before"], "10:05")
    )
    add_outcome(app, early, "payment_collected", alice, amount_collected=Decimal("999.00"))
    early_promise = visit(2, days["before"], alice, status="completed")
    add_outcome(
        app, early_promise, "promise_to_pay", alice, promise_date=local_today() + timedelta(days=5), promise_amount=500
    )
    elsewhere = make_account(other_lot, days_past_due=45, amount_due=Decimal("500.00"))
    away = make_visit(elsewhere, local(first, "10:00"), local(first, "11:00"), status="completed")
    add_outcome(app, away, "payment_collected", office, amount_collected=Decimal("500.00"))
    return {"alice": alice, "bob": bob}


def summary_url(lot, days):
    return f"/api/v1/dealerships/{lot.id}/collections/summary?from={days['first']}&to={days['last']}"


def test_each_figure_of_a_lot_matches_the_hand_count(client, admin_headers, lot, days, fixture):
    response = client.get(summary_url(lot, days), headers=admin_headers)
    assert response.status_code == 200, response.json
    figures = response.json
    assert figures["dealership_id"] == lot.id
    assert (figures["from"], figures["to"]) == (days["first"].isoformat(), days["last"].isoformat())
    assert figures["visits"] == {"booked": 10, "completed": 7, "missed": 2, "cancelled": 1}
    assert figures["check_ins"] == {"on_site": 2, "off_site": 1}
    expected_outcomes = dict.fromkeys(OUTCOME_CODES, 0) | {
        "payment_collected": 2,
        "promise_to_pay": 3,
        "refused": 1,
        "customer_moved": 1,
    }
    assert figures["outcomes"] == expected_outcomes
    # At the door 100.00 + 25.50, online 30.00; the office's 50.00 is paid after the period.
    assert figures["collected_amount"] == "155.50"
    assert figures["promises"] == {"made": 3, "kept": 1, "broken": 1, "pending": 1, "kept_rate": 0.5}
    assert figures["aging"] == [
        {"bucket": "1-30", "accounts": 2, "amount_due": "300.00"},
        {"bucket": "31-60", "accounts": 1, "amount_due": "300.00"},
        {"bucket": "61-90", "accounts": 1, "amount_due": "50.00"},
        {"bucket": "91+", "accounts": 2, "amount_due": "1010.10"},
    ]
    # The skip trace due on the first day; the rebook and the broken promise fall due after the period.
    assert figures["open_follow_ups"] == 1
    alice, bob = fixture["alice"], fixture["bob"]
    assert figures["by_rep"] == [
        {
            "rep_id": alice.id,
            "rep_name": "Alice Reyes",
            "visits_completed": 3,
            "on_site_rate": 0.5,
            "collected_amount": "100.00",
            "promises_made": 2,
            "promises_kept": 1,
        },
        {
            "rep_id": bob.id,
            "rep_name": "Bob Stone",
            "visits_completed": 4,
            "on_site_rate": 1.0,
            "collected_amount": "25.50",
            "promises_made": 1,
            "promises_kept": 0,
        },
    ]


def test_one_day_of_the_range_counts_only_that_days_visits(client, admin_headers, lot, days, fixture):
    first = days["first"]
    figures = client.get(
        f"/api/v1/dealerships/{lot.id}/collections/summary?from={first}&to={first}", headers=admin_headers
    ).json
    assert figures["visits"] == {"booked": 3, "completed": 3, "missed": 0, "cancelled": 0}
    assert figures["collected_amount"] == "100.00"
    assert figures["check_ins"] == {"on_site": 1, "off_site": 1}
    assert figures["promises"] == {"made": 1, "kept": 1, "broken": 0, "pending": 0, "kept_rate": 1.0}
    assert figures["open_follow_ups"] == 1


def test_open_follow_ups_are_those_due_by_the_end_of_the_range_and_still_open(
    client, admin_headers, lot, days, fixture
):
    def open_until(day):
        url = f"/api/v1/dealerships/{lot.id}/collections/summary?from={days['first']}&to={day}"
        return client.get(url, headers=admin_headers).json["open_follow_ups"]

    closing = days["last"] + timedelta(days=2)
    assert open_until(closing) == 3
    queue = client.get(f"/api/v1/follow-ups?dealership_id={lot.id}&kind=broken_promise", headers=admin_headers)
    [chase] = queue.json
    path = f"/api/v1/follow-ups/{chase['id']}"
    etag = client.get(path, headers=admin_headers).headers["ETag"]
    body = {"status": "done", "note": "Customer paid the rest at the lot"}
    done = client.patch(path, json=body, headers={**admin_headers, "If-Match": etag})
    assert done.status_code == 200, done.json
    assert open_until(closing) == 2


def test_a_lot_with_nothing_to_count_reads_zeros(client, admin_headers, other_lot, days):
    figures = client.get(summary_url(other_lot, days), headers=admin_headers).json
    assert figures["visits"] == {"booked": 0, "completed": 0, "missed": 0, "cancelled": 0}
    assert figures["outcomes"] == dict.fromkeys(OUTCOME_CODES, 0)
    assert figures["collected_amount"] == "0.00"
    assert [bucket["accounts"] for bucket in figures["aging"]] == [0, 0, 0, 0]
    assert figures["by_rep"] == []


def test_the_cross_lot_summary_has_one_entry_per_lot_in_scope(
    client, admin_headers, login, make_user, lot, other_lot, days, fixture
):
    query = f"from={days['first']}&to={days['last']}"
    everything = client.get(f"/api/v1/collections/summary?{query}", headers=admin_headers)
    assert everything.status_code == 200
    by_lot = {entry["dealership_id"]: entry for entry in everything.json}
    assert set(by_lot) == {lot.id, other_lot.id}
    assert by_lot[other_lot.id]["collected_amount"] == "500.00"
    assert by_lot[lot.id] == client.get(summary_url(lot, days), headers=admin_headers).json


def test_a_manager_sees_only_their_lots_figures(client, login, make_user, lot, other_lot, days, fixture):
    manager = login(make_user("manager", dealerships=[lot]))
    query = f"from={days['first']}&to={days['last']}"
    listed = client.get(f"/api/v1/collections/summary?{query}", headers=manager).json
    assert [entry["dealership_id"] for entry in listed] == [lot.id]
    assert client.get(summary_url(lot, days), headers=manager).status_code == 200
    assert client.get(summary_url(other_lot, days), headers=manager).status_code == 404
    rep = login(fixture["alice"])
    assert client.get(f"/api/v1/collections/summary?{query}", headers=rep).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-03-02&to=2026-03-01",
        "from=2025-01-01&to=2026-01-02",
        "from=2026-03-01",
        "from=2026-02-30&to=2026-03-01",
    ],
)
def test_a_bad_range_is_422(client, admin_headers, lot, query):
    response = client.get(f"/api/v1/dealerships/{lot.id}/collections/summary?{query}", headers=admin_headers)
    assert response.status_code == 422
    assert client.get(f"/api/v1/collections/summary?{query}", headers=admin_headers).status_code == 422
