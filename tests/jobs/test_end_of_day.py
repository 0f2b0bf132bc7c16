import threading
from datetime import UTC, datetime, timedelta

import pytest

from field_ops.jobs import service as jobs
from tests.closing import listing, record_outcome, run_job, visit_today
from tests.timing import local, local_today

# Threads, other connections or jobs with their own transactions: data must really commit.
pytestmark = pytest.mark.real_commits


@pytest.fixture
def headers(login, make_user):
    return login(make_user("specialist"))


def days_ago(n):
    return local_today() - timedelta(days=n)


def visit_on(make_visit, account, day, **fields):
    start = local(day, "10:00")
    return make_visit(account, start, start + timedelta(hours=2), **fields)


def visit_status(client, headers, visit):
    return client.get(f"/api/v1/visits/{visit.id}", headers=headers).json["status"]


def test_the_job_run_twice_changes_nothing_the_second_time(app, client, headers, lot, make_account, make_visit):
    account = make_account(lot)
    unvisited = visit_on(make_visit, account, days_ago(1))
    checked_in = visit_on(make_visit, account, days_ago(1), status="checked_in")
    done = visit_on(make_visit, account, days_ago(1), status="completed")
    today = visit_on(make_visit, make_account(lot), local_today())  # a day not over yet, whatever the hour

    first = run_job(app)
    assert [(r.day, r.status, r.counts) for r in first.runs] == [
        (days_ago(1), "ok", {"visits_missed": 2, "promises_broken": 0, "follow_ups_raised": 2})
    ]
    assert [visit_status(client, headers, v) for v in (unvisited, checked_in, done, today)] == [
        "missed",
        "missed",
        "completed",
        "scheduled",
    ]
    rebooks = listing(client, headers, "/api/v1/follow-ups?kind=rebook_missed_visit")
    assert sorted(f["visit_id"] for f in rebooks) == [unvisited.id, checked_in.id]
    assert {f["due_date"] for f in rebooks} == {local_today().isoformat()}
    trail = listing(client, headers, f"/api/v1/audit?entity_type=visit&entity_id={unvisited.id}")
    assert trail[0]["action"] == "visit.missed"

    second = run_job(app)
    assert second.runs == [] and not second.skipped
    assert len(listing(client, headers, "/api/v1/follow-ups")) == 2
    assert len(listing(client, headers, "/api/v1/job-runs")) == 1


def test_a_late_job_catches_up_three_missed_days_oldest_first(app, client, headers, lot, make_account, make_visit):
    account = make_account(lot)
    visits = [visit_on(make_visit, make_account(lot), days_ago(n)) for n in (3, 2, 1)]
    record_outcome(
        client,
        headers,
        visit_today(make_visit, account),
        outcome="promise_to_pay",
        promise_date=(local_today() + timedelta(days=1)).isoformat(),
        promise_amount="50.00",
    )
    report = run_job(app)
    assert [r.day for r in report.runs] == [days_ago(3), days_ago(2), days_ago(1)]
    assert all(r.counts["visits_missed"] == 1 for r in report.runs)
    rebooks = listing(client, headers, "/api/v1/follow-ups?kind=rebook_missed_visit")
    assert sorted((f["visit_id"], f["due_date"]) for f in rebooks) == [
        (v.id, days_ago(n - 1).isoformat()) for v, n in zip(visits, (3, 2, 1), strict=True)
    ]
    runs = listing(client, headers, f"/api/v1/job-runs?job=end_of_day&dealership_id={lot.id}")
    assert [r["day"] for r in runs] == [days_ago(n).isoformat() for n in (1, 2, 3)]
    assert all(r["status"] == "ok" and r["finished_at"] for r in runs)

    # Three days later the job closes the three days since: the promise's date among them.
    later = run_job(app, now=datetime.now(UTC) + timedelta(days=3))
    assert [r.day for r in later.runs] == [days_ago(0), days_ago(-1), days_ago(-2)]
    assert [r.counts["promises_broken"] for r in later.runs] == [0, 1, 0]


def test_a_failing_lot_does_not_stop_the_others_and_is_retried(
    app, client, headers, make_dealership, make_account, make_visit
):
    broken_lot = make_dealership(timezone="Nowhere/Atlantis")
    good_lot = make_dealership()
    visit = visit_on(make_visit, make_account(good_lot), days_ago(1))
    report = run_job(app)
    assert [(r.dealership_id, r.status) for r in report.runs] == [(broken_lot.id, "failed"), (good_lot.id, "ok")]
    assert visit_status(client, headers, visit) == "missed"
    [failed] = listing(client, headers, f"/api/v1/job-runs?dealership_id={broken_lot.id}")
    assert failed["status"] == "failed" and "Atlantis" in failed["error"]
    assert [r.dealership_id for r in run_job(app).runs] == [broken_lot.id]


def test_two_workers_triggering_the_job_at_once_one_runs_one_skips(app, monkeypatch, make_account, lot, make_visit):
    visit_on(make_visit, make_account(lot), days_ago(1))
    inside, second_done = threading.Event(), threading.Event()
    real_lots = jobs.lots_to_run

    def lots_while_the_other_worker_tries(*args):
        inside.set()
        second_done.wait(timeout=10)
        return real_lots(*args)

    monkeypatch.setattr(jobs, "lots_to_run", lots_while_the_other_worker_tries)
    reports = {}

    def worker(name):
        reports[name] = run_job(app)

    first = threading.Thread(target=worker, args=("first",))
    first.start()
    assert inside.wait(timeout=10)
    monkeypatch.setattr(jobs, "lots_to_run", real_lots)
    worker("second")
    second_done.set()
    first.join(timeout=30)
    assert reports["second"].skipped and reports["second"].runs == []
    assert not reports["first"].skipped
    assert [r.counts["visits_missed"] for r in reports["first"].runs] == [1]
    assert not run_job(app).skipped  # the lock is released once the run ends


def test_the_cli_closes_a_day_by_hand_and_refuses_a_day_not_begun(app, make_account, lot, make_visit):
    visit_on(make_visit, make_account(lot), days_ago(2))
    runner = app.test_cli_runner()
    day = days_ago(2).isoformat()
    result = runner.invoke(args=["end-of-day", "--date", day, "--dealership-id", str(lot.id)])
    assert result.exit_code == 0, result.output
    assert "visits_missed=1" in result.output
    again = runner.invoke(args=["end-of-day", "--date", day, "--dealership-id", str(lot.id)])
    assert "visits_missed=0" in again.output

    future = runner.invoke(args=["end-of-day", "--date", (local_today() + timedelta(days=2)).isoformat()])
    assert future.exit_code == 2
    assert "after today" in future.output


def test_job_runs_are_for_admins_and_specialists(client, login, make_user, lot):
    assert client.get("/api/v1/job-runs", headers=login(make_user("admin"))).status_code == 200
    manager = login(make_user("manager", dealerships=[lot]))
    assert client.get("/api/v1/job-runs", headers=manager).status_code == 403


def test_end_of_day_on_a_fresh_demo_leaves_work_for_the_specialists(app, client, login):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    from seeds.demo import DEMO_PASSWORD, OFFICE

    specialist = next(email for email, _, role in OFFICE if role == "specialist")
    response = client.post("/api/v1/auth/token", json={"email": specialist, "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {response.json['access_token']}"}
    missed_before = len(listing(client, headers, "/api/v1/visits?status=missed&page_size=100"))
    closed = runner.invoke(args=["end-of-day"])
    assert closed.exit_code == 0, closed.output
    kinds = {f["kind"] for f in listing(client, headers, "/api/v1/follow-ups?page_size=100")}
    assert kinds == {"rebook_missed_visit", "broken_promise", "skip_trace"}
    # Each lot's recent work keeps, breaks and leaves pending one promise; the BNT campaign of two
    # weeks ago adds one kept (paid online) and one broken.
    promises = {s: len(listing(client, headers, f"/api/v1/promises?status={s}")) for s in ("kept", "broken", "pending")}
    assert promises == {"kept": 4, "broken": 4, "pending": 3}
    # Yesterday's unvisited visits at each lot, and the two campaign visits nobody reached.
    assert len(listing(client, headers, "/api/v1/visits?status=missed&page_size=100")) == missed_before + 11
    bnt = next(lot["id"] for lot in listing(client, headers, "/api/v1/dealerships") if lot["code"] == "BNT")
    today = local_today()
    summary = f"/api/v1/dealerships/{bnt}/collections/summary?from={today - timedelta(days=30)}&to={today}"
    figures = listing(client, headers, summary)
    assert figures["promises"]["kept"] >= 2 and figures["promises"]["broken"] >= 2, figures["promises"]
    assert figures["visits"]["missed"] >= 2 and figures["open_follow_ups"] >= 2
    assert runner.invoke(args=["end-of-day"]).output.startswith("Nothing to close")


def test_a_scheduler_tick_closes_the_days_that_ended(app, make_account, lot, make_visit):
    from field_ops.jobs.scheduler import tick

    visit_on(make_visit, make_account(lot), days_ago(1))
    tick(app)
    with app.app_context():
        from field_ops.core.db import get_session
        from field_ops.jobs.models import JobRun

        assert [r.counts["visits_missed"] for r in get_session().query(JobRun)] == [1]
