from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.closing import listing, record_outcome, run_job, visit_today
from tests.timing import local_today


@pytest.fixture
def headers(login, make_user):
    return login(make_user("specialist"))


@pytest.fixture
def account(make_account, lot):
    return make_account(lot)


def pay(client, headers, account, amount, key=None, **extra):
    body = {"amount": amount, "paid_on": local_today().isoformat(), "method": "cash", **extra}
    key_header = {"Idempotency-Key": key} if key else {}
    return client.post(f"/api/v1/accounts/{account.id}/payments", json=body, headers={**headers, **key_header})


def promise_of(client, headers, account):
    [promise] = listing(client, headers, f"/api/v1/promises?account_id={account.id}")
    return promise


def test_a_promise_to_pay_outcome_makes_a_pending_promise(client, headers, make_visit, account, lot):
    visit = visit_today(make_visit, account)
    due = local_today() + timedelta(days=3)
    outcome = record_outcome(
        client, headers, visit, outcome="promise_to_pay", promise_date=due.isoformat(), promise_amount="150.00"
    )
    promise = promise_of(client, headers, account)
    assert promise["visit_id"] == visit.id and promise["outcome_id"] == outcome["id"]
    assert promise["dealership_id"] == lot.id
    assert (promise["promise_date"], promise["promise_amount"], promise["paid_amount"]) == (
        due.isoformat(),
        "150.00",
        "0.00",
    )
    assert promise["status"] == "pending" and promise["kept_at"] is None
    single = client.get(f"/api/v1/promises/{promise['id']}", headers=headers)
    assert single.status_code == 200 and "ETag" in single.headers
    assert listing(client, headers, f"/api/v1/promises?status=kept&account_id={account.id}") == []
    assert len(listing(client, headers, f"/api/v1/promises?due_from={due}&due_to={due}")) == 1
    assert listing(client, headers, f"/api/v1/promises?due_to={local_today()}") == []


def test_a_promise_is_kept_by_two_partial_payments_as_soon_as_they_add_up(client, headers, make_visit, account):
    due = local_today() + timedelta(days=2)
    record_outcome(
        client,
        headers,
        visit_today(make_visit, account),
        outcome="promise_to_pay",
        promise_date=due.isoformat(),
        promise_amount="100.00",
    )
    first = pay(client, headers, account, "40.00", method="card", reference="TX-1")
    assert first.status_code == 201, first.json
    assert first.headers["Location"].endswith(f"/api/v1/payments/{first.json['id']}")
    promise = promise_of(client, headers, account)
    assert (promise["status"], promise["paid_amount"]) == ("pending", "40.00")

    assert pay(client, headers, account, "60.00").status_code == 201
    promise = promise_of(client, headers, account)
    assert (promise["status"], promise["paid_amount"]) == ("kept", "100.00")
    assert promise["kept_at"] is not None
    payments = listing(client, headers, f"/api/v1/accounts/{account.id}/payments")
    assert sorted(p["amount"] for p in payments) == ["40.00", "60.00"]
    trail = listing(client, headers, f"/api/v1/audit?entity_type=promise&entity_id={promise['id']}")
    assert [e["action"] for e in reversed(trail)] == ["promise.made", "promise.paid_towards", "promise.kept"]


def test_a_collected_payment_outcome_records_a_payment_on_the_visits_day(client, headers, make_visit, account):
    visit = visit_today(make_visit, account)
    record_outcome(client, headers, visit, outcome="payment_collected", amount_collected="75.50", payment_method="cash")
    [payment] = listing(client, headers, f"/api/v1/accounts/{account.id}/payments")
    assert (payment["amount"], payment["visit_id"], payment["method"]) == ("75.50", visit.id, "cash")
    assert payment["paid_on"] == local_today().isoformat()
    assert len(listing(client, headers, "/api/v1/audit?entity_type=payment")) == 1


def test_payments_replayed_under_one_key_are_recorded_once(client, headers, account):
    first = pay(client, headers, account, "25.00", key="pay-1")
    again = pay(client, headers, account, "25.00", key="pay-1")
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    reused = pay(client, headers, account, "30.00", key="pay-1")
    assert reused.status_code == 422
    assert reused.json["code"] == "idempotency_key_reused"
    assert len(listing(client, headers, f"/api/v1/accounts/{account.id}/payments")) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 25},
        {"amount": "-5.00"},
        {"amount": "0.00"},
        {"amount": "10.005"},
        {"method": "bitcoin"},
        {"paid_on": (datetime.now(ZoneInfo("America/Chicago")).date() + timedelta(days=1)).isoformat()},
    ],
)
def test_a_bad_payment_is_refused_and_nothing_is_written(client, headers, account, change):
    body = {"amount": "25.00", "paid_on": local_today().isoformat(), "method": "cash", **change}
    response = client.post(f"/api/v1/accounts/{account.id}/payments", json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert listing(client, headers, f"/api/v1/accounts/{account.id}/payments") == []


def test_reps_cannot_record_payments_and_other_lots_accounts_are_not_found(
    client, login, make_user, make_dealership, make_account, lot, account
):
    rep = login(make_user("rep", dealerships=[lot]))
    assert pay(client, rep, account, "5.00").status_code == 403
    manager = login(make_user("manager", dealerships=[make_dealership()]))
    assert client.get(f"/api/v1/accounts/{account.id}/payments", headers=manager).status_code == 404


@pytest.mark.real_commits
def test_a_promise_breaks_when_its_own_lots_day_has_ended_not_another_zones(
    app, client, headers, make_dealership, make_account, make_visit
):
    phoenix = make_dealership(timezone="America/Phoenix")
    chicago = make_dealership(timezone="America/Chicago")
    due = local_today() + timedelta(days=2)
    accounts = {}
    for name, lot in (("phoenix", phoenix), ("chicago", chicago)):
        accounts[name] = make_account(lot)
        record_outcome(
            client,
            headers,
            visit_today(make_visit, accounts[name]),
            outcome="promise_to_pay",
            promise_date=due.isoformat(),
            promise_amount="80.00",
        )
    assert pay(client, headers, accounts["chicago"], "30.00").status_code == 201

    # 06:30 UTC the day after the promise: 00:30 in Chicago (its day is over), 23:30 in Phoenix.
    between = datetime.combine(due + timedelta(days=1), time(6, 30), tzinfo=UTC)
    run_job(app, now=between)
    chicago_promise = promise_of(client, headers, accounts["chicago"])
    assert (chicago_promise["status"], chicago_promise["paid_amount"]) == ("broken", "30.00")
    assert promise_of(client, headers, accounts["phoenix"])["status"] == "pending"

    run_job(app, now=between + timedelta(hours=1))
    assert promise_of(client, headers, accounts["phoenix"])["status"] == "broken"
    chases = listing(client, headers, "/api/v1/follow-ups?kind=broken_promise")
    assert sorted((f["account_id"], f["due_date"]) for f in chases) == sorted(
        (accounts[n].id, (due + timedelta(days=1)).isoformat()) for n in ("phoenix", "chicago")
    )
    run_job(app, now=between + timedelta(days=1))
    assert len(listing(client, headers, "/api/v1/follow-ups?kind=broken_promise")) == 2


def test_stored_payment_answers_are_purged_after_the_retention(app, client, headers, account):
    assert pay(client, headers, account, "25.00", key="old-key").status_code == 201
    runner = app.test_cli_runner()
    kept = runner.invoke(args=["purge-idempotency-keys"])
    assert "Purged 0" in kept.output
    app.config["IDEMPOTENCY_RETENTION_DAYS"] = -1
    try:
        purged = runner.invoke(args=["purge-idempotency-keys"])
    finally:
        app.config["IDEMPOTENCY_RETENTION_DAYS"] = 30
    assert "Purged 1" in purged.output
