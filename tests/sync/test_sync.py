"""Offline sync: a phone catches up on what changed in its user's scope, page by page."""

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from field_ops.core.db import transaction
from field_ops.visits.models import Visit
from tests.timing import days_ahead, local

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.fixture
def lot(make_dealership):
    return make_dealership(latitude=36.359, longitude=-94.1966)


@pytest.fixture
def day():
    return days_ahead(2, "00:00").date()


def book(client, headers, account, day, rep=None, start="09:00", end="12:00"):
    body = {"account_id": account.id, "window_start": local(day, start).isoformat(),
            "window_end": local(day, end).isoformat(), "assigned_rep_id": rep.id if rep else None}  # fmt: skip
    response = client.post("/api/v1/visits", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def patch_visit(client, headers, visit_id, changes):
    url = f"/api/v1/visits/{visit_id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    response = client.patch(url, json=changes, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.json
    return response.json


def sync(client, headers, cursor=None, limit=None):
    params = {k: v for k, v in (("since", cursor), ("limit", limit)) if v is not None}
    response = client.get("/api/v1/sync", query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def sync_all(client, headers, cursor=None, limit=None):
    """Page until has_more is false; returns the pages and the last cursor."""
    pages = []
    while True:
        page = sync(client, headers, cursor, limit)
        pages.append(page)
        cursor = page["cursor"]
        if not page["has_more"]:
            return pages, cursor


def ids(pages, key):
    return [item["id"] for page in pages for item in page[key]]


def removed(pages):
    return {(item["entity_type"], item["id"]) for page in pages for item in page["removed"]}


def test_a_rep_catches_up_on_a_sequence_of_changes_one_page_at_a_time(
    client, office, login, lot, day, make_user, make_account
):
    rep = make_user("rep", dealerships=[lot])
    rep_headers = login(rep)
    first, cursor = sync_all(client, rep_headers)
    assert [page["visits"] for page in first] == [[]]
    keys = {"cursor", "has_more", "visits", "routes", "lot_issues", "follow_ups", "accounts", "removed"}
    assert set(first[0]) == keys

    ana, ben = make_account(lot, customer_name="Ana"), make_account(lot, customer_name="Ben")
    kept = book(client, office, ana, day, rep)
    cancelled = book(client, office, ben, day, rep, "13:00", "15:00")
    book(client, office, ben, day + timedelta(days=1))  # nobody's: not the rep's business
    patch_visit(client, office, kept["id"], {"notes": "Gate code 1234"})
    patch_visit(client, office, cancelled["id"], {"status": "cancelled", "cancel_reason": "customer paid"})

    pages, cursor = sync_all(client, rep_headers, cursor, limit=1)
    for page in pages:
        assert sum(len(page[key]) for key in ("visits", "routes", "accounts", "removed")) <= 1
    assert pages[-1]["has_more"] is False
    visits = {item["id"]: item for page in pages for item in page["visits"]}
    assert set(visits) == {kept["id"], cancelled["id"]}
    assert visits[kept["id"]]["notes"] == "Gate code 1234"
    assert visits[cancelled["id"]]["status"] == "cancelled"
    accounts = [item for page in pages for item in page["accounts"]]
    assert {a["id"] for a in accounts} == {ana.id, ben.id}
    assert all("restriction_note" not in a for a in accounts)
    assert removed(pages) == set()

    caught_up = sync(client, rep_headers, cursor)
    assert caught_up["has_more"] is False and caught_up["visits"] == [] and caught_up["accounts"] == []
    patch_visit(client, office, kept["id"], {"priority": "urgent"})
    later = sync(client, rep_headers, caught_up["cursor"])
    assert [v["priority"] for v in later["visits"]] == ["urgent"]


def test_each_role_syncs_its_own_scope(client, office, login, lot, day, make_user, make_account, make_dealership):
    other_lot = make_dealership()
    manager = make_user("manager", dealerships=[lot])
    book(client, office, make_account(lot), day)
    book(client, office, make_account(other_lot), day)
    pages, _ = sync_all(client, login(manager))
    assert len(ids(pages, "visits")) == 1 and len(ids(pages, "accounts")) == 1
    assert all(a["restriction_note"] is None for page in pages for a in page["accounts"])
    everything, _ = sync_all(client, office)
    assert len(ids(everything, "visits")) == 2 and len(ids(everything, "accounts")) == 2
    assert all(page["lot_issues"] == [] and page["follow_ups"] == [] for page in everything)


def test_a_reassigned_visit_is_removed_from_the_first_reps_phone(
    client, office, login, lot, day, make_user, make_account
):
    first_rep, second_rep = make_user("rep", dealerships=[lot]), make_user("rep", dealerships=[lot])
    first_headers, second_headers = login(first_rep), login(second_rep)
    account = make_account(lot)
    visit = book(client, office, account, day, first_rep)
    _, first_cursor = sync_all(client, first_headers)
    _, second_cursor = sync_all(client, second_headers)

    patch_visit(client, office, visit["id"], {"assigned_rep_id": second_rep.id})

    pages, _ = sync_all(client, first_headers, first_cursor)
    assert removed(pages) == {("visit", visit["id"]), ("account", account.id)}
    assert ids(pages, "visits") == []
    pages, _ = sync_all(client, second_headers, second_cursor)
    assert ids(pages, "visits") == [visit["id"]] and ids(pages, "accounts") == [account.id]
    assert removed(pages) == set()


def test_a_rep_taken_off_the_lot_gets_everything_of_it_removed(
    client, office, admin_headers, login, lot, day, make_user, make_account, make_dealership
):
    other_lot = make_dealership()
    rep = make_user("rep", dealerships=[lot, other_lot])
    rep_headers = login(rep)
    here, there = make_account(lot), make_account(other_lot)
    leaving = book(client, office, here, day, rep)
    staying = book(client, office, there, day, rep)
    _, cursor = sync_all(client, rep_headers)

    url = f"/api/v1/users/{rep.id}"
    etag = client.get(url, headers=admin_headers).headers["ETag"]
    response = client.patch(url, json={"dealership_ids": [other_lot.id]}, headers={**admin_headers, "If-Match": etag})
    assert response.status_code == 200

    pages, cursor = sync_all(client, rep_headers, cursor)
    assert removed(pages) == {("visit", leaving["id"]), ("account", here.id)}
    assert staying["id"] not in ids(pages, "visits")

    etag = client.get(url, headers=admin_headers).headers["ETag"]
    client.patch(url, json={"dealership_ids": [lot.id, other_lot.id]}, headers={**admin_headers, "If-Match": etag})
    pages, _ = sync_all(client, rep_headers, cursor)
    assert ids(pages, "visits") == [leaving["id"]] and ids(pages, "accounts") == [here.id]


def test_a_replan_that_moves_a_reps_stops_away_removes_them_and_empties_the_route(
    client, office, login, lot, day, make_user, make_account, make_visit
):
    first_rep, second_rep = make_user("rep", dealerships=[lot]), make_user("rep", dealerships=[lot])
    first_headers = login(first_rep)
    account = make_account(lot, latitude=36.38, longitude=-94.18)
    visit = make_visit(account, local(day, "09:00"), local(day, "17:00"))
    url = f"/api/v1/dealerships/{lot.id}/route-plans"
    planned = client.post(url, json={"date": day.isoformat(), "rep_ids": [first_rep.id]}, headers=office).json
    [route] = planned["routes"]
    pages, cursor = sync_all(client, first_headers)
    assert ids(pages, "routes") == [route["id"]] and ids(pages, "visits") == [visit.id]

    replanned = client.post(url, json={"date": day.isoformat(), "rep_ids": [second_rep.id]}, headers=office)
    assert replanned.status_code == 200

    pages, _ = sync_all(client, first_headers, cursor)
    # The route keeps its id (the phone's cached route stays valid), now without stops.
    assert removed(pages) == {("visit", visit.id), ("account", account.id)}
    [kept] = [item for page in pages for item in page["routes"]]
    assert kept["id"] == route["id"] and kept["stops"] == []


def test_a_tampered_or_foreign_cursor_is_refused(client, office, login, lot, make_user):
    rep, other = make_user("rep", dealerships=[lot]), make_user("rep", dealerships=[lot])
    cursor = sync(client, login(rep))["cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for bad in (tampered, "not-a-cursor", cursor + "x"):
        response = client.get("/api/v1/sync", query_string={"since": bad}, headers=login(rep))
        assert response.status_code == 422 and response.json["code"] == "invalid_cursor"
    foreign = client.get("/api/v1/sync", query_string={"since": cursor}, headers=login(other))
    assert foreign.status_code == 422 and foreign.json["code"] == "invalid_cursor"
    for limit in (0, 1001, "many"):
        response = client.get("/api/v1/sync", query_string={"limit": limit}, headers=login(rep))
        assert response.status_code == 422
    assert client.get("/api/v1/sync").status_code == 401


@pytest.mark.real_commits
@pytest.mark.skipif(not ON_POSTGRES, reason="a second writer waits for SQLite's write lock")
def test_a_change_committed_after_a_later_one_is_not_skipped(
    app, client, office, login, lot, day, make_user, make_account
):
    rep = make_user("rep", dealerships=[lot])
    rep_headers = login(rep)
    slow = book(client, office, make_account(lot), day, rep)
    _, cursor = sync_all(client, rep_headers)
    flushed, release = threading.Event(), threading.Event()

    def slow_writer():
        with app.app_context(), transaction() as session:
            visit = session.scalar(select(Visit).where(Visit.id == slow["id"]))
            visit.notes = "written first, committed last"
            session.flush()
            flushed.set()
            release.wait(10)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert flushed.wait(10)
    fast = book(client, office, make_account(lot), day, rep, "13:00", "15:00")
    pages, cursor = sync_all(client, rep_headers, cursor)
    assert ids(pages, "visits") == [fast["id"]]
    release.set()
    writer.join(10)
    pages, _ = sync_all(client, rep_headers, cursor)
    assert ids(pages, "visits") == [slow["id"]]
    assert pages[0]["visits"][0]["notes"] == "written first, committed last"


@pytest.mark.real_commits
@pytest.mark.skipif(not ON_POSTGRES, reason="commits interleave for real on PostgreSQL")
def test_a_reader_paging_while_two_writers_book_misses_nothing_and_gets_nothing_twice(
    app, office, login, lot, day, make_user, make_account
):
    rep = make_user("rep", dealerships=[lot])
    rep_headers = login(rep)
    accounts = [make_account(lot) for _ in range(24)]
    booked: list[int] = []
    errors: list[object] = []

    def writer(mine):
        client = app.test_client()
        try:
            for account in mine:
                booked.append(book(client, office, account, day, rep)["id"])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    writers = [threading.Thread(target=writer, args=(accounts[i::2],)) for i in range(2)]
    for thread in writers:
        thread.start()
    reader = app.test_client()
    seen: list[int] = []
    cursor = None
    while any(thread.is_alive() for thread in writers):
        page = sync(reader, rep_headers, cursor, limit=3)
        seen += [v["id"] for v in page["visits"]]
        cursor = page["cursor"]
    for thread in writers:
        thread.join()
    pages, _ = sync_all(reader, rep_headers, cursor, limit=3)
    seen += ids(pages, "visits")
    assert errors == []
    assert sorted(seen) == sorted(booked) and len(booked) == 24


@pytest.mark.real_commits
def test_sync_carries_lot_issues_to_the_lots_reps_and_follow_ups_to_the_office_only(
    app, client, office, login, lot, make_user, make_account, make_visit
):
    from tests.closing import run_job
    from tests.timing import local_today

    rep = make_user("rep", dealerships=[lot])
    rep_headers = login(rep)
    _, rep_cursor = sync_all(client, rep_headers)
    _, office_cursor = sync_all(client, office)

    issue = client.post(
        "/api/v1/lot-issues",
        json={"dealership_id": lot.id, "category": "gps_device", "severity": "high", "title": "Starter kill dead"},
        headers=rep_headers,
    )
    assert issue.status_code == 201, issue.json
    yesterday = local_today() - timedelta(days=1)
    start = local(yesterday, "10:00")
    unvisited = make_visit(make_account(lot), start, start + timedelta(hours=2))
    run_job(app)

    rep_pages, _ = sync_all(client, rep_headers, rep_cursor)
    assert ids(rep_pages, "lot_issues") == [issue.json["id"]]
    assert ids(rep_pages, "follow_ups") == []
    office_pages, _ = sync_all(client, office, office_cursor)
    assert ids(office_pages, "lot_issues") == [issue.json["id"]]
    follow_ups = [item for page in office_pages for item in page["follow_ups"]]
    assert [(f["kind"], f["visit_id"]) for f in follow_ups] == [("rebook_missed_visit", unvisited.id)]
