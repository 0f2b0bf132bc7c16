import json
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from field_ops.core.audit import AuditEntry
from field_ops.core.db import transaction
from field_ops.lot_issues.models import LotIssue, LotIssueComment
from tests.timing import CHICAGO, recent_daytime

URL = "/api/v1/lot-issues"


@pytest.fixture
def other_lot(make_dealership):
    return make_dealership(timezone="America/Denver")


@pytest.fixture
def rep(make_user, lot):
    return make_user("rep", dealerships=[lot])


@pytest.fixture
def rep_headers(login, rep):
    return login(rep)


@pytest.fixture
def manager_headers(make_user, login, lot):
    return login(make_user("manager", dealerships=[lot]))


def issue_body(lot, **overrides):
    body = {
        "dealership_id": lot.id,
        "category": "gps_device",
        "severity": "medium",
        "title": "GPS units offline on three cars",
        "description": "The tracker portal shows no pings since Monday.",
    }
    body.update(overrides)
    return body


def file(client, headers, lot, **overrides):
    response = client.post(URL, json=issue_body(lot, **overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def patch(client, headers, issue_id, body, etag=None):
    if etag is None:
        etag = client.get(f"{URL}/{issue_id}", headers=headers).headers["ETag"]
    return client.patch(f"{URL}/{issue_id}", json=body, headers={**headers, "If-Match": etag})


def stored_issues(app) -> int:
    with app.app_context(), transaction() as session:
        return session.scalar(select(func.count()).select_from(LotIssue))


def force(app, issue_id, age_days=None, **fields):
    """Set an issue's state directly, and age it: filed `age_days` ago (due date moves along)."""
    with app.app_context(), transaction() as session:
        issue = session.get(LotIssue, issue_id)
        for name, value in fields.items():
            setattr(issue, name, value)
        if age_days is not None:
            shift = issue.created_at - (datetime.now(UTC) - timedelta(days=age_days))
            issue.created_at -= shift
            issue.due_at -= shift
            issue.created_on = issue.created_at.astimezone(ZoneInfo(CHICAGO)).date()


def test_a_rep_files_an_issue_at_their_lot_routed_and_due_by_the_rules(client, rep, rep_headers, lot):
    response = client.post(URL, json=issue_body(lot), headers=rep_headers)
    assert response.status_code == 201, response.json
    issue = response.json
    assert response.headers["Location"].endswith(f"{URL}/{issue['id']}")
    assert issue["status"] == "open"
    assert issue["assigned_department"] == "gps_support"
    assert issue["reported_by"] == rep.id
    assert issue["overdue"] is False
    assert issue["acknowledged_at"] is None and issue["resolved_at"] is None and issue["closed_at"] is None
    filed = datetime.fromisoformat(issue["created_at"])
    assert datetime.fromisoformat(issue["due_at"]) - filed == timedelta(days=7)
    assert set(issue) == {
        "id", "dealership_id", "category", "severity", "title", "description", "visit_id", "account_id",
        "status", "assigned_department", "reported_by", "created_at", "updated_at", "acknowledged_at",
        "resolved_at", "closed_at", "resolution", "due_at", "overdue",
    }  # fmt: skip


def test_the_department_follows_the_category_unless_one_is_given(client, office, lot):
    expected = {
        "gps_device": "gps_support",
        "paperwork_title": "title_office",
        "payment_processing": "accounting",
        "facility": "facilities",
        "staff_training": "training",
        "vehicle_condition": "service",
        "collection_practices": "collections",
        "customer_communication": "collections",
        "other": "management",
    }
    for category, department in expected.items():
        assert file(client, office, lot, category=category)["assigned_department"] == department
    given = file(client, office, lot, category="gps_device", assigned_department="accounting")
    assert given["assigned_department"] == "accounting"


def test_the_due_date_follows_the_severity(client, office, lot):
    for severity, days in {"critical": 1, "high": 3, "medium": 7, "low": 14}.items():
        issue = file(client, office, lot, severity=severity)
        due = datetime.fromisoformat(issue["due_at"]) - datetime.fromisoformat(issue["created_at"])
        assert due == timedelta(days=days), severity


def test_an_issue_may_name_a_visit_and_account_of_its_own_lot(client, office, lot, make_account, make_visit):
    account = make_account(lot)
    at = recent_daytime()
    visit = make_visit(account, at, at + timedelta(hours=1))
    issue = file(client, office, lot, visit_id=visit.id, account_id=account.id)
    assert (issue["visit_id"], issue["account_id"]) == (visit.id, account.id)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"category": "weather"}, "category"),
        ({"severity": "urgent"}, "severity"),
        ({"assigned_department": "marketing"}, "assigned_department"),
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"dealership_id": 999999}, "dealership_id"),
        ({"visit_id": 999999}, "visit_id"),
        ({"account_id": 999999}, "account_id"),
        ({"dealership_id": "1"}, "dealership_id"),
        ({"reported_by": 1}, "reported_by"),
    ],
)
def test_bad_input_is_refused_by_field_and_nothing_is_filed(app, client, office, lot, overrides, field):
    response = client.post(URL, json=issue_body(lot, **overrides), headers=office)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert field in response.json["errors"]
    assert stored_issues(app) == 0


def test_a_visit_or_account_of_another_lot_is_refused(app, client, office, lot, other_lot, make_account, make_visit):
    elsewhere = make_account(other_lot)
    at = recent_daytime()
    visit = make_visit(elsewhere, at, at + timedelta(hours=1))
    for overrides, field in (({"visit_id": visit.id}, "visit_id"), ({"account_id": elsewhere.id}, "account_id")):
        response = client.post(URL, json=issue_body(lot, **overrides), headers=office)
        assert response.status_code == 422, response.json
        assert response.json["code"] == "not_same_dealership"
        assert field in response.json["errors"]
    assert stored_issues(app) == 0


def test_a_rep_files_only_at_their_own_lots_and_a_manager_does_not_file(
    app, client, rep_headers, manager_headers, other_lot, lot
):
    response = client.post(URL, json=issue_body(other_lot), headers=rep_headers)
    assert response.status_code == 422
    assert "dealership_id" in response.json["errors"]
    assert client.post(URL, json=issue_body(lot), headers=manager_headers).status_code == 403
    assert stored_issues(app) == 0


def test_an_issue_is_worked_through_every_allowed_status_and_each_change_stamps_its_time(
    client, rep_headers, manager_headers, lot
):
    issue = file(client, rep_headers, lot)
    url = f"{URL}/{issue['id']}"

    acknowledged = patch(client, manager_headers, issue["id"], {"status": "acknowledged"})
    assert acknowledged.status_code == 200, acknowledged.json
    assert acknowledged.json["acknowledged_at"] is not None
    assert patch(client, manager_headers, issue["id"], {"status": "in_progress"}).json["status"] == "in_progress"

    refused = patch(client, manager_headers, issue["id"], {"status": "resolved"})
    assert refused.status_code == 422
    assert refused.json["code"] == "resolution_required"
    assert client.get(url, headers=manager_headers).json["status"] == "in_progress"

    resolved = patch(client, manager_headers, issue["id"], {"status": "resolved", "resolution": "Trackers re-seated"})
    assert resolved.status_code == 200
    assert resolved.json["resolved_at"] is not None
    assert resolved.json["resolution"] == "Trackers re-seated"

    reopened = patch(client, manager_headers, issue["id"], {"status": "open"})
    assert reopened.status_code == 200
    assert reopened.json["status"] == "open"
    assert reopened.json["resolved_at"] is None
    assert reopened.json["acknowledged_at"] == acknowledged.json["acknowledged_at"]

    for status in ("acknowledged", "in_progress"):
        assert patch(client, manager_headers, issue["id"], {"status": status}).status_code == 200
    patch(client, manager_headers, issue["id"], {"status": "resolved", "resolution": "Replaced two units"})
    closed = patch(client, manager_headers, issue["id"], {"status": "closed"})
    assert closed.status_code == 200
    assert closed.json["status"] == "closed"
    assert closed.json["closed_at"] is not None
    assert closed.json["resolution"] == "Replaced two units"


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("open", "in_progress"),
        ("open", "resolved"),
        ("open", "closed"),
        ("acknowledged", "open"),
        ("acknowledged", "resolved"),
        ("in_progress", "acknowledged"),
        ("in_progress", "closed"),
        ("resolved", "in_progress"),
        ("closed", "open"),
        ("closed", "resolved"),
    ],
)
def test_other_status_changes_are_refused_and_change_nothing(app, client, office, lot, current, target):
    issue = file(client, office, lot)
    force(app, issue["id"], status=current)
    before = client.get(f"{URL}/{issue['id']}", headers=office).json
    response = patch(client, office, issue["id"], {"status": target, "resolution": "done", "title": "Changed"})
    assert response.status_code == 409
    assert response.json["code"] == "invalid_transition"
    assert client.get(f"{URL}/{issue['id']}", headers=office).json == before


def test_a_resolution_goes_only_with_the_resolved_status(client, office, lot):
    issue = file(client, office, lot)
    refused = patch(client, office, issue["id"], {"status": "acknowledged", "resolution": "Fixed"})
    assert refused.status_code == 422
    assert "resolution" in refused.json["errors"]
    assert client.get(f"{URL}/{issue['id']}", headers=office).json["status"] == "open"
    for status in ("acknowledged", "in_progress"):
        patch(client, office, issue["id"], {"status": status})
    patch(client, office, issue["id"], {"status": "resolved", "resolution": "Fixed"})
    corrected = patch(client, office, issue["id"], {"resolution": "Fixed: two trackers replaced"})
    assert corrected.status_code == 200
    assert corrected.json["resolution"] == "Fixed: two trackers replaced"


def test_a_patch_needs_a_current_if_match(client, office, lot):
    issue = file(client, office, lot)
    url = f"{URL}/{issue['id']}"
    missing = client.patch(url, json={"status": "acknowledged"}, headers=office)
    assert missing.status_code == 428
    assert missing.content_type == "application/problem+json"
    etag = client.get(url, headers=office).headers["ETag"]
    assert client.get(url, headers={**office, "If-None-Match": etag}).status_code == 304
    assert patch(client, office, issue["id"], {"title": "GPS units offline on four cars"}, etag).status_code == 200
    stale = patch(client, office, issue["id"], {"status": "acknowledged"}, etag)
    assert stale.status_code == 412
    assert stale.content_type == "application/problem+json"
    assert client.get(url, headers=office).json["status"] == "open"


@pytest.mark.real_commits
def test_of_two_writers_holding_the_same_etag_exactly_one_wins(app, client, office, lot):
    issue = file(client, office, lot)
    etag = client.get(f"{URL}/{issue['id']}", headers=office).headers["ETag"]
    barrier = threading.Barrier(2)
    statuses = []

    def send(body):
        local_client = app.test_client()
        barrier.wait()
        statuses.append(patch(local_client, office, issue["id"], body, etag).status_code)

    threads = [
        threading.Thread(target=send, args=({"status": "acknowledged"},)),
        threading.Thread(target=send, args=({"severity": "critical"},)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 412]


def test_changing_the_severity_moves_the_due_date_and_the_department_can_be_reassigned(client, office, lot):
    issue = file(client, office, lot, severity="low")
    changed = patch(client, office, issue["id"], {"severity": "high", "assigned_department": "management"}).json
    filed = datetime.fromisoformat(changed["created_at"])
    assert datetime.fromisoformat(changed["due_at"]) - filed == timedelta(days=3)
    assert changed["assigned_department"] == "management"


def test_a_manager_works_status_and_department_but_not_the_report_itself(client, rep_headers, manager_headers, lot):
    issue = file(client, rep_headers, lot)
    moved = patch(client, manager_headers, issue["id"], {"assigned_department": "collections"})
    assert moved.status_code == 200
    for body in ({"title": "Other"}, {"severity": "low"}, {"description": "x"}):
        refused = patch(client, manager_headers, issue["id"], body)
        assert refused.status_code == 403
        assert refused.json["code"] == "field_not_allowed_for_role"


def test_a_rep_reads_and_comments_but_does_not_work_an_issue(client, rep_headers, lot):
    issue = file(client, rep_headers, lot)
    assert client.get(f"{URL}/{issue['id']}", headers=rep_headers).status_code == 200
    assert patch(client, rep_headers, issue["id"], {"status": "acknowledged"}).status_code == 403
    comment = client.post(f"{URL}/{issue['id']}/comments", json={"body": "Still down today"}, headers=rep_headers)
    assert comment.status_code == 201


def test_a_manager_of_one_lot_sees_nothing_of_another(
    client, office, manager_headers, make_user, login, lot, other_lot
):
    mine = file(client, office, lot)
    theirs = file(client, office, other_lot)
    listed = client.get(f"{URL}?dealership_id={other_lot.id}", headers=manager_headers)
    assert listed.status_code == 200
    assert listed.json == []
    assert [i["id"] for i in client.get(URL, headers=manager_headers).json] == [mine["id"]]
    assert client.get(f"{URL}/{theirs['id']}", headers=manager_headers).status_code == 404
    stale = client.patch(
        f"{URL}/{theirs['id']}", json={"status": "acknowledged"}, headers={**manager_headers, "If-Match": "*"}
    )
    assert stale.status_code == 404
    assert client.get(f"{URL}/{theirs['id']}/comments", headers=manager_headers).status_code == 404
    assert (
        client.post(f"{URL}/{theirs['id']}/comments", json={"body": "hi"}, headers=manager_headers).status_code == 404
    )
    assert (
        client.get(f"/api/v1/dealerships/{other_lot.id}/lot-issues/summary", headers=manager_headers).status_code == 404
    )
    ranking = client.get(f"{URL}/summary", headers=manager_headers).json
    assert [lot_row["dealership_id"] for lot_row in ranking] == [lot.id]
    outsider = login(make_user("rep", dealerships=[other_lot]))
    assert client.get(f"{URL}/{mine['id']}", headers=outsider).status_code == 404


def test_comments_are_listed_oldest_first_with_their_authors(client, rep, rep_headers, manager_headers, lot):
    issue = file(client, rep_headers, lot)
    url = f"{URL}/{issue['id']}/comments"
    first = client.post(url, json={"body": "Three cars now"}, headers=rep_headers)
    assert first.status_code == 201
    assert set(first.json) == {"id", "lot_issue_id", "body", "author_id", "created_at"}
    assert first.json["author_id"] == rep.id
    client.post(url, json={"body": "Vendor called"}, headers=manager_headers)
    listed = client.get(url, headers=rep_headers)
    assert [c["body"] for c in listed.json] == ["Three cars now", "Vendor called"]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 2
    assert client.post(url, json={"body": ""}, headers=rep_headers).status_code == 422


def test_every_change_and_comment_is_audited_as_a_lot_issue(app, client, office, rep_headers, lot):
    issue = file(client, rep_headers, lot)
    patch(client, office, issue["id"], {"status": "acknowledged"})
    patch(client, office, issue["id"], {"assigned_department": "service"})
    client.post(f"{URL}/{issue['id']}/comments", json={"body": "On it"}, headers=office)
    trail = client.get(f"/api/v1/audit?entity_type=lot_issue&entity_id={issue['id']}", headers=office).json
    actions = [entry["action"] for entry in reversed(trail)]
    assert actions == ["lot_issue.filed", "lot_issue.status_changed", "lot_issue.updated", "lot_issue.commented"]
    assert trail[2]["changes"]["status"] == ["open", "acknowledged"]
    assert trail[1]["changes"]["assigned_department"] == ["gps_support", "service"]
    with app.app_context(), transaction() as session:
        assert session.scalar(select(func.count()).select_from(LotIssueComment)) == 1
        assert session.scalar(select(func.count()).where(AuditEntry.entity_type == "lot_issue")) == 4


def test_overdue_is_computed_when_read_and_filterable(app, client, office, lot):
    late = file(client, office, lot, severity="critical")
    fixed_late = file(client, office, lot, severity="critical")
    fresh = file(client, office, lot, severity="critical")
    force(app, late["id"], age_days=2, status="in_progress")
    force(app, fixed_late["id"], age_days=2, status="resolved", resolution="done")
    assert client.get(f"{URL}/{late['id']}", headers=office).json["overdue"] is True
    assert client.get(f"{URL}/{fixed_late['id']}", headers=office).json["overdue"] is False
    assert [i["id"] for i in client.get(f"{URL}?overdue=true", headers=office).json] == [late["id"]]
    not_overdue = {i["id"] for i in client.get(f"{URL}?overdue=false", headers=office).json}
    assert not_overdue == {fixed_late["id"], fresh["id"]}


def test_the_list_filters_by_every_field_and_pages(app, client, office, rep, rep_headers, lot, other_lot):
    a = file(client, rep_headers, lot, category="facility", severity="high")
    b = file(client, office, lot, category="gps_device", severity="low", assigned_department="service")
    c = file(client, office, other_lot, category="facility", severity="high")
    force(app, a["id"], age_days=10, status="acknowledged")

    def ids(query):
        response = client.get(f"{URL}?{query}", headers=office)
        assert response.status_code == 200, response.json
        return {i["id"] for i in response.json}

    assert ids(f"dealership_id={lot.id}") == {a["id"], b["id"]}
    assert ids("status=acknowledged") == {a["id"]}
    assert ids("category=facility") == {a["id"], c["id"]}
    assert ids("severity=low") == {b["id"]}
    assert ids("assigned_department=service") == {b["id"]}
    assert ids(f"reported_by={rep.id}") == {a["id"]}
    ten_days_ago = (datetime.now(ZoneInfo(CHICAGO)) - timedelta(days=10)).date()
    assert ids(f"created_to={ten_days_ago.isoformat()}") == {a["id"]}
    assert ids(f"created_from={(ten_days_ago + timedelta(days=1)).isoformat()}") == {b["id"], c["id"]}
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"created_from={since}") == {b["id"], c["id"]}
    assert client.get(f"{URL}?created_from=2026-01-01T00:00:00", headers=office).status_code == 422
    assert client.get(f"{URL}?status=pending", headers=office).status_code == 422
    page = client.get(f"{URL}?page_size=2&page=2", headers=office)
    assert len(page.json) == 1
    assert json.loads(page.headers["X-Pagination"])["total"] == 3
    assert client.get(f"{URL}?page_size=101", headers=office).status_code == 422


def test_a_lots_summary_matches_a_hand_count(app, client, office, lot):
    # age (days), status, category, severity
    fixture = [
        (2, "open", "gps_device", "critical"),  # overdue (due after 1 day)
        (4, "acknowledged", "facility", "high"),  # overdue (3 days)
        (6, "in_progress", "other", "medium"),  # not yet (7 days)
        (20, "open", "gps_device", "low"),  # overdue (14 days)
        (30, "resolved", "facility", "medium"),  # resolved: never overdue
        (50, "closed", "other", "high"),
        (100, "closed", "other", "low"),  # older than the 12 weeks shown
    ]
    for age, status, category, severity in fixture:
        issue = file(client, office, lot, category=category, severity=severity)
        force(app, issue["id"], age_days=age, status=status)

    response = client.get(f"/api/v1/dealerships/{lot.id}/lot-issues/summary", headers=office)
    assert response.status_code == 200, response.json
    summary = response.json
    assert summary["dealership_id"] == lot.id
    assert summary["by_status"] == {"open": 2, "acknowledged": 1, "in_progress": 1, "resolved": 1, "closed": 2}
    assert summary["by_category"] == {
        "gps_device": 2, "paperwork_title": 0, "payment_processing": 0, "facility": 2, "staff_training": 0,
        "vehicle_condition": 0, "collection_practices": 0, "customer_communication": 0, "other": 3,
    }  # fmt: skip
    assert summary["by_severity"] == {"critical": 1, "high": 2, "medium": 2, "low": 2}
    assert summary["open_median_age_days"] == 5.0  # unresolved ages 2, 4, 6, 20: (4 + 6) / 2
    assert summary["overdue"] == 3

    today = datetime.now(ZoneInfo(CHICAGO)).date()
    this_monday = today - timedelta(days=today.weekday())
    weeks = summary["weekly_new"]
    assert [date.fromisoformat(w["week_start"]) for w in weeks] == [
        this_monday - timedelta(weeks=n) for n in range(11, -1, -1)
    ]
    expected = {}
    for age, *_ in fixture[:-1]:
        filed = (datetime.now(UTC) - timedelta(days=age)).astimezone(ZoneInfo(CHICAGO)).date()
        monday = filed - timedelta(days=filed.weekday())
        expected[monday.isoformat()] = expected.get(monday.isoformat(), 0) + 1
    assert {w["week_start"]: w["count"] for w in weeks if w["count"]} == expected
    assert sum(w["count"] for w in weeks) == 6
    assert sum(1 for w in weeks if w["count"] == 0) >= 5


def test_an_empty_lots_summary_has_zeros_and_no_median(client, manager_headers, lot):
    summary = client.get(f"/api/v1/dealerships/{lot.id}/lot-issues/summary", headers=manager_headers).json
    assert set(summary["by_status"].values()) == {0}
    assert summary["open_median_age_days"] is None
    assert summary["overdue"] == 0
    assert len(summary["weekly_new"]) == 12


def test_the_cross_lot_summary_puts_the_struggling_lots_first(app, client, office, make_user, login, make_dealership):
    calm, busy, critical, empty = (make_dealership(code=code) for code in ("CALM", "BUSY", "CRIT", "EMPT"))
    specs = [
        (calm, "other", "low", 1, "open"),
        (busy, "facility", "high", 2, "open"),
        (busy, "facility", "high", 5, "in_progress"),
        (busy, "gps_device", "medium", 1, "acknowledged"),
        (busy, "gps_device", "medium", 1, "closed"),
        (critical, "payment_processing", "critical", 0, "open"),
        (calm, "other", "low", 3, "open"),
    ]
    for dealership, category, severity, age, status in specs:
        issue = file(client, office, dealership, category=category, severity=severity)
        force(app, issue["id"], age_days=age, status=status)
    response = client.get(f"{URL}/summary", headers=office)
    assert response.status_code == 200, response.json
    rows = {row["dealership_code"]: row for row in response.json}
    assert [row["dealership_code"] for row in response.json] == ["CRIT", "BUSY", "CALM", "EMPT"]
    assert rows["BUSY"] == {
        "dealership_id": busy.id, "dealership_code": "BUSY", "open": 3, "open_critical": 0, "open_high": 2,
        "overdue": 1, "open_median_age_days": 2.0, "top_category": "facility",
    }  # fmt: skip
    assert rows["CALM"]["open_median_age_days"] == 2.0
    assert rows["CRIT"]["open_critical"] == 1 and rows["CRIT"]["top_category"] == "payment_processing"
    assert rows["EMPT"] == {
        "dealership_id": empty.id, "dealership_code": "EMPT", "open": 0, "open_critical": 0, "open_high": 0,
        "overdue": 0, "open_median_age_days": None, "top_category": None,
    }  # fmt: skip
    assert client.get(f"{URL}/summary", headers=login(make_user("rep", dealerships=[busy]))).status_code == 403
