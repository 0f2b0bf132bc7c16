import csv
import io
from datetime import datetime, timedelta

import icalendar
import openpyxl
import pytest

from field_ops.schedules.export import neutralise_formula
from tests.timing import days_ahead, local

COLUMNS = {
    "visit_id", "date", "dealership_id", "dealership_code", "rep_id", "rep_name", "stop_number", "window_start",
    "window_end", "eta", "customer_name", "account_number", "address", "phone", "days_past_due", "amount_due",
    "kind", "reason", "priority", "status", "outcome", "booked_by", "notes",
    "amount_collected", "promise_date", "promise_amount",
}  # fmt: skip
PEOPLE_HEADERS = [
    "Date", "Dealership", "Rep", "Stop #", "Window Start", "Window End", "ETA", "Customer", "Account #", "Address",
    "Phone", "Days Past Due", "Amount Due", "Kind", "Reason", "Priority", "Status", "Outcome", "Booked By", "Notes",
    "Amount Collected", "Promise Date", "Promise Amount",
]  # fmt: skip


@pytest.fixture
def lot(make_dealership):
    return make_dealership(code="BNT")


@pytest.fixture
def office(make_user, login):
    return login(make_user("specialist", name="Sam Rivera"))


@pytest.fixture
def day():
    return days_ahead(2, "00:00").date()


@pytest.fixture
def reps(make_user, lot):
    return [make_user("rep", dealerships=[lot], name=name) for name in ("Zoe Young", "Al Baker")]


def book(client, headers, account, day, start="09:00", end="12:00", **extra):
    body = {"account_id": account.id, "window_start": local(day, start).isoformat(),
            "window_end": local(day, end).isoformat(), **extra}  # fmt: skip
    response = client.post("/api/v1/visits", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def booked_day(client, office, lot, day, reps, make_account):
    """Four visits: two per rep, one unassigned, one with a formula-looking note."""
    accounts = [make_account(lot, account_number=f"BNT-{n}", customer_name=name, amount_due="125.50")
                for n, name in enumerate(["Ana Baca", "Ben Cruz", "Cy Diaz", "Di Eng"], start=1)]  # fmt: skip
    visits = [
        book(client, office, accounts[0], day, "13:00", "16:00", assigned_rep_id=reps[0].id, priority="high"),
        book(client, office, accounts[1], day, "09:00", "12:00", assigned_rep_id=reps[0].id),
        book(client, office, accounts[2], day, "10:00", "11:00", assigned_rep_id=reps[1].id,
             notes='=HYPERLINK("http://evil.example","click")'),
        book(client, office, accounts[3], day, "08:30", "17:00", reason="skip", kind="dealership_appointment"),
    ]  # fmt: skip
    return accounts, visits


def test_the_schedule_has_one_row_per_visit_sorted_by_rep_stop_and_window(client, office, lot, day, booked_day, reps):
    response = client.get(f"/api/v1/schedules/{day.isoformat()}?dealership_id={lot.id}", headers=office)
    assert response.status_code == 200
    body = response.json
    assert body["date"] == day.isoformat() and body["dealership_id"] == lot.id
    assert body["version"] == 0 and body["published_at"] is None and body["changed_since_publish"] is None
    rows = body["rows"]
    assert all(set(row) == COLUMNS for row in rows)
    assert [(r["rep_name"], r["window_start"][11:16]) for r in rows] == [
        ("Al Baker", "10:00"), ("Zoe Young", "09:00"), ("Zoe Young", "13:00"), (None, "08:30"),
    ]  # fmt: skip
    first = rows[0]
    assert first["dealership_code"] == "BNT"
    assert first["window_start"].endswith("-06:00")  # the lot's zone
    assert first["amount_due"] == "125.50"
    assert first["booked_by"] == "Sam Rivera"
    assert first["address"].endswith("Bentonville, AR 72712")


def test_schedules_are_scoped(client, login, make_user, make_dealership, lot, day, booked_day):
    other = make_dealership()
    stranger = login(make_user("manager", dealerships=[other]))
    assert (
        client.get(f"/api/v1/schedules/{day.isoformat()}?dealership_id={lot.id}", headers=stranger).status_code == 404
    )
    everything = client.get(f"/api/v1/schedules/{day.isoformat()}", headers=stranger).json
    assert everything["rows"] == [] and [lot_["dealership_id"] for lot_ in everything["lots"]] == [other.id]
    rep = login(make_user("rep", dealerships=[lot]))
    assert len(client.get(f"/api/v1/schedules/{day.isoformat()}?dealership_id={lot.id}", headers=rep).json["rows"]) == 4
    assert (
        client.post(f"/api/v1/schedules/{day.isoformat()}/publish?dealership_id={lot.id}", headers=rep).status_code
        == 403
    )


def test_publishing_bumps_the_version_and_readers_see_later_changes(client, office, lot, day, booked_day, make_account):
    url = f"/api/v1/schedules/{day.isoformat()}"
    published = client.post(f"{url}/publish?dealership_id={lot.id}", headers=office)
    assert published.status_code == 200
    assert published.json["version"] == 1 and published.json["published_at"]
    read = client.get(f"{url}?dealership_id={lot.id}", headers=office).json
    assert read["version"] == 1 and read["changed_since_publish"] is False
    book(client, office, make_account(lot), day, "14:00", "15:00")
    assert client.get(f"{url}?dealership_id={lot.id}", headers=office).json["changed_since_publish"] is True
    again = client.post(f"{url}/publish?dealership_id={lot.id}", headers=office).json
    assert again["version"] == 2 and again["changed_since_publish"] is False
    trail = client.get("/api/v1/audit?entity_type=schedule", headers=office).json
    assert [e["changes"]["version"] for e in trail] == [[1, 2], [0, 1]]


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_schedule_as_csv_reads_back_and_is_safe_in_a_spreadsheet(client, office, lot, day, booked_day):
    by_accept = client.get(
        f"/api/v1/schedules/{day.isoformat()}?dealership_id={lot.id}", headers={**office, "Accept": "text/csv"}
    )
    by_param = client.get(f"/api/v1/schedules/{day.isoformat()}?dealership_id={lot.id}&format=csv", headers=office)
    for response in (by_accept, by_param):
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"] == f'attachment; filename="schedule-BNT-{day.isoformat()}.csv"'
    rows = read_csv(by_param.data)
    assert rows[0] == PEOPLE_HEADERS
    assert len(rows) == 5
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["Rep"], first["Window Start"], first["Window End"]) == ("Al Baker", "10:00", "11:00")
    assert first["Notes"] == '\'=HYPERLINK("http://evil.example","click")'
    assert first["Phone"] == "+14795550100"
    for cell, shown in [("+1 (479) 555-0191", "+1 (479) 555-0191"), ("-12.50", "-12.50"), ("-", "'-"),
                        ("+SUM(A1)", "'+SUM(A1)"), ("-2+cmd|' /C calc'!A0", "'-2+cmd|' /C calc'!A0"),
                        ("@SUM(A1)", "'@SUM(A1)"), ("=1+1", "'=1+1")]:  # fmt: skip
        assert neutralise_formula(cell) == shown
    assert first["Amount Due"] == "125.50"


def test_the_schedule_as_excel_has_real_values_frozen_headers_and_a_sheet_per_rep(client, office, lot, day, booked_day):
    response = client.get(f"/api/v1/schedules/{day.isoformat()}?dealership_id={lot.id}&format=xlsx", headers=office)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="schedule-BNT-{day.isoformat()}.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["All", "Al Baker", "Zoe Young", "Unassigned"]
    sheet = workbook["All"]
    assert sheet["A1"].value == f"Schedule BNT {day.isoformat()}, not published yet"
    assert [c.value for c in sheet[2]] == PEOPLE_HEADERS
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:W6"
    assert sheet.print_title_rows == "$2:$2"
    assert sheet.page_setup.orientation == "landscape"
    assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0)  # 1 is the default
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    row = {header: cell for header, cell in zip(PEOPLE_HEADERS, sheet[3], strict=True)}
    assert row["Window Start"].value == datetime(day.year, day.month, day.day, 10, 0)
    assert row["Window Start"].number_format == "hh:mm"
    assert row["Date"].value.date() == day
    assert row["Amount Due"].value == 125.5 and row["Amount Due"].number_format == "#,##0.00"
    assert row["Days Past Due"].value == 10
    assert row["Notes"].data_type == "s" and row["Notes"].value.startswith("=HYPERLINK")
    assert sheet.column_dimensions["J"].width > len("Address") + 10
    assert workbook["Zoe Young"].max_row == 4 and workbook["Unassigned"].max_row == 3


def _cancel_all(client, headers, visits):
    for visit in visits:
        url = f"/api/v1/visits/{visit['id']}"
        etag = client.get(url, headers=headers).headers["ETag"]
        response = client.patch(
            url, json={"status": "cancelled", "cancel_reason": "re-import"}, headers={**headers, "If-Match": etag}
        )
        assert response.status_code == 200


def _fingerprint(rows):
    keys = ("account_number", "window_start", "window_end", "kind", "priority", "rep_name", "reason", "notes")
    return sorted(tuple(row[k] for k in keys) for row in rows)


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_exported_day_imports_back_to_the_same_visits(client, office, lot, day, booked_day, file_format):
    accounts, visits = booked_day
    url = f"/api/v1/schedules/{day.isoformat()}?dealership_id={lot.id}"
    before = client.get(url, headers=office).json["rows"]
    exported = client.get(f"{url}&format={file_format}", headers=office).data
    _cancel_all(client, office, visits)
    response = client.post(
        f"/api/v1/schedules/import?dealership_id={lot.id}",
        data={"file": (io.BytesIO(exported), f"day.{file_format}")},
        headers=office,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    assert response.json["created"] == 4 and response.json["failed"] == 0
    after = [r for r in client.get(url, headers=office).json["rows"] if r["status"] == "scheduled"]
    assert _fingerprint(after) == _fingerprint(before)


def post_import(client, headers, lot, content: bytes | str, name="sheet.csv", **flags):
    if isinstance(content, str):
        content = content.encode("utf-8")
    query = "&".join(f"{k}={str(v).lower()}" for k, v in flags.items())
    return client.post(
        f"/api/v1/schedules/import?dealership_id={lot.id}&{query}",
        data={"file": (io.BytesIO(content), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


@pytest.fixture
def accounts(lot, make_account):
    return [make_account(lot, account_number=f"BNT-{n}") for n in range(1, 5)]


def test_a_messy_spreadsheet_imports(client, office, lot, day, reps, accounts):
    us_date = day.strftime("%m/%d/%Y")
    first, last = accounts[0].customer_name.split()
    messy = (
        "\ufeffAcct # , Customer,DATE,Time, Rep ,Priority,notes\r\n"
        f"BNT-1 ,{first.upper()}  {last},{us_date},9am-12pm,Zoe Young ,High,  gate code 12  \r\n"
        ",,,,,,\r\n"
        f"bnt-2,,{day.isoformat()},1:30 PM - 4 PM,al baker,,\r\n"
        f'BNT-1 ,"{last}, {first}",{us_date},9am-12pm,Zoe Young,High,again\r\n'
        "\r\n"
    )
    response = post_import(client, office, lot, messy)
    assert response.status_code == 200, response.json["rows"]
    rows = response.json["rows"]
    assert [(r["row"], r["status"]) for r in rows] == [(2, "created"), (4, "created"), (5, "duplicate")]
    assert rows[2]["visit_id"] == rows[0]["visit_id"]
    first = client.get(f"/api/v1/visits/{rows[0]['visit_id']}", headers=office).json
    assert datetime.fromisoformat(first["window_start"]) == local(day, "09:00")
    assert datetime.fromisoformat(first["window_end"]) == local(day, "12:00")
    assert (first["priority"], first["notes"], first["assigned_rep_id"]) == ("high", "gate code 12", reps[0].id)
    second = client.get(f"/api/v1/visits/{rows[1]['visit_id']}", headers=office).json
    assert datetime.fromisoformat(second["window_start"]) == local(day, "13:30")
    assert datetime.fromisoformat(second["window_end"]) == local(day, "16:00")
    assert second["assigned_rep_id"] == reps[1].id


def test_excel_serial_dates_and_times_import(client, office, lot, day, accounts):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Account No", "Date", "Window Start", "Window End"])
    serial = (day - datetime(1899, 12, 30).date()).days
    sheet.append(["BNT-3", serial, 0.375, 0.5])  # numbers, as a typed-over cell holds them
    sheet.append([None, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = post_import(client, office, lot, buffer.getvalue(), name="old.xlsx")
    assert response.status_code == 200, response.json
    visit = client.get(f"/api/v1/visits/{response.json['rows'][0]['visit_id']}", headers=office).json
    assert datetime.fromisoformat(visit["window_start"]) == local(day, "09:00")
    assert datetime.fromisoformat(visit["window_end"]) == local(day, "12:00")


def test_a_dry_run_writes_nothing(client, office, lot, day, accounts):
    sheet = f"Account #,Date,Time\nBNT-1,{day.isoformat()},9am-12pm\n"
    response = post_import(client, office, lot, sheet, dry_run=True)
    assert response.status_code == 200
    assert response.json["dry_run"] is True
    assert response.json["rows"] == [
        {
            "row": 2,
            "status": "valid",
            "visit_id": None,
            "errors": None,
            "account_number": "BNT-1",
            "customer_name": accounts[0].customer_name,
            "date": day.isoformat(),
            "window_start": local(day, "09:00").isoformat(),
            "window_end": local(day, "12:00").isoformat(),
        }
    ]
    assert client.get("/api/v1/visits", headers=office).json == []


def test_a_failing_row_stops_the_import_unless_partial(client, office, lot, day, accounts):
    sheet = (
        "Account #,Date,Time\n"
        f"BNT-1,{day.isoformat()},9am-12pm\n"
        f"BNT-404,{day.isoformat()},9am-12pm\n"
        f"BNT-2,{day.isoformat()},8pm-10pm\n"
        f"BNT-3,not a date,9am-12pm\n"
    )
    response = post_import(client, office, lot, sheet)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "import_failed"
    statuses = [(r["row"], r["status"]) for r in response.json["rows"]]
    assert statuses == [(2, "valid"), (3, "error"), (4, "error"), (5, "error")]
    assert "account_number" in response.json["rows"][1]["errors"]
    assert response.json["rows"][2]["code"] == "outside_contact_hours"
    assert "date" in response.json["rows"][3]["errors"]
    assert client.get("/api/v1/visits", headers=office).json == []

    partial = post_import(client, office, lot, sheet, partial=True)
    assert partial.status_code == 200
    assert (partial.json["created"], partial.json["failed"]) == (1, 3)
    assert len(client.get("/api/v1/visits", headers=office).json) == 1


def test_bad_files_are_refused_clearly(client, app, office, lot, accounts, monkeypatch):
    assert post_import(client, office, lot, b"%PDF-1.4 binary", name="scan.pdf").json["code"] == "unreadable_file"
    assert (
        post_import(client, office, lot, b"PK\x03\x04 not really a zip", name="x.xlsx").json["code"]
        == "unreadable_file"
    )
    no_header = post_import(client, office, lot, "Name,Phone\nAna,555\n")
    assert no_header.status_code == 422 and "account" in no_header.json["detail"].lower()
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 100)
    too_big = post_import(client, office, lot, "Account #,Date,Time\n" + "BNT-1,2030-01-01,9am-12pm\n" * 20)
    assert too_big.status_code == 413 and too_big.json["code"] == "file_too_large"
    missing = client.post(f"/api/v1/schedules/import?dealership_id={lot.id}", data={}, headers=office,
                          content_type="multipart/form-data")  # fmt: skip
    assert missing.status_code == 422


def test_a_rep_subscribes_to_their_visits_as_a_calendar(client, login, office, lot, day, reps, booked_day):
    rep = login(reps[0])
    token = client.get("/api/v1/me/calendar-token", headers=rep).json
    assert len(token["token"]) >= 40
    assert token["url"].endswith(f"/api/v1/calendar/{token['token']}.ics")
    assert client.get("/api/v1/me/calendar-token", headers=rep).json == token
    feed = client.get(f"/api/v1/calendar/{token['token']}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(feed.data)
    events = calendar.walk("VEVENT")
    assert len(events) == 2
    afternoon = next(e for e in events if "Ana Baca" in str(e["summary"]))
    _, visits = booked_day
    assert str(afternoon["uid"]) == f"visit-{visits[0]['id']}@field-ops.example"
    assert afternoon.decoded("dtstart") == local(day, "13:00")
    assert afternoon.decoded("dtend") == local(day, "16:00")
    assert "Bentonville, AR" in str(afternoon["location"])
    assert afternoon["geo"].latitude == pytest.approx(36.37)
    description = str(afternoon["description"])
    assert "+14795550100" in description and "$125.50" in description and "google.com/maps" in description
    assert 0 <= int(afternoon["sequence"]) < 2**31 and afternoon.decoded("last-modified")


def test_a_phone_polling_an_unchanged_calendar_gets_304(client, login, office, reps, booked_day):
    token = client.get("/api/v1/me/calendar-token", headers=login(reps[0])).json["token"]
    feed = client.get(f"/api/v1/calendar/{token}.ics")
    etag = feed.headers["ETag"]
    again = client.get(f"/api/v1/calendar/{token}.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.data == b""
    weak = client.get(f"/api/v1/calendar/{token}.ics", headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    _, visits = booked_day
    client.patch(
        f"/api/v1/visits/{visits[0]['id']}",
        json={"notes": "Gate code 1234"},
        headers={**office, "If-Match": client.get(f"/api/v1/visits/{visits[0]['id']}", headers=office).headers["ETag"]},
    )
    changed = client.get(f"/api/v1/calendar/{token}.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_rotating_the_calendar_token_kills_the_old_url_at_once(client, login, reps, make_user):
    rep = login(reps[0])
    old = client.get("/api/v1/me/calendar-token", headers=rep).json["token"]
    new = client.post("/api/v1/me/calendar-token", headers=rep).json["token"]
    assert new != old
    assert client.get(f"/api/v1/calendar/{old}.ics").status_code == 404
    assert client.get(f"/api/v1/calendar/{new}.ics").status_code == 200
    assert client.get("/api/v1/calendar/made-up.ics").status_code == 404
    assert client.get("/api/v1/me/calendar-token", headers=login(make_user("manager"))).status_code == 403


def test_the_calendar_moves_with_the_route_eta(client, login, office, lot, day, reps, booked_day):
    client.post(
        f"/api/v1/dealerships/{lot.id}/route-plans",
        json={"date": day.isoformat(), "keep_assignments": True},
        headers=office,
    )
    rep = login(reps[1])
    token = client.get("/api/v1/me/calendar-token", headers=rep).json["token"]
    event = icalendar.Calendar.from_ical(client.get(f"/api/v1/calendar/{token}.ics").data).walk("VEVENT")[0]
    _, visits = booked_day
    routed = client.get(f"/api/v1/visits/{visits[2]['id']}", headers=office).json
    assert event.decoded("dtstart") == datetime.fromisoformat(routed["eta"])
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=15)


def test_control_characters_do_not_break_the_excel_file(client, office, lot, day, make_account):
    book(client, office, make_account(lot), day, notes="bell\x07 and escape\x1b")
    response = client.get(f"/api/v1/schedules/{day.isoformat()}?dealership_id={lot.id}&format=xlsx", headers=office)
    assert response.status_code == 200
    notes = openpyxl.load_workbook(io.BytesIO(response.data))["All"]["T3"].value
    assert notes == "bell and escape"


def test_import_reads_windows_as_people_write_them_and_checks_each_field(client, office, lot, day, accounts):
    sheet = (
        "Account #,Date,Time,Duration,Status\n"
        f"BNT-1,{day.isoformat()},11-2pm,30,\n"
        f"BNT-2,{day.isoformat()},9am-12pm,0,\n"
        f"BNT-3,{day.isoformat()},9am-12pm,,cancelled\n"
    )
    response = post_import(client, office, lot, sheet, partial=True)
    assert response.status_code == 200, response.json
    rows = response.json["rows"]
    assert [r["status"] for r in rows] == ["created", "error", "skipped"]
    assert "duration_minutes" in rows[1]["errors"]
    visit = client.get(f"/api/v1/visits/{rows[0]['visit_id']}", headers=office).json
    assert datetime.fromisoformat(visit["window_start"]) == local(day, "11:00")
    assert datetime.fromisoformat(visit["window_end"]) == local(day, "14:00")
    assert visit["duration_minutes"] == 30


def test_a_failed_import_reports_nothing_created(client, office, lot, day, accounts):
    sheet = f"Account #,Date,Time\nBNT-1,{day.isoformat()},9am-12pm\nBNT-9,{day.isoformat()},9am-12pm\n"
    response = post_import(client, office, lot, sheet)
    assert response.status_code == 422
    assert (response.json["created"], response.json["valid"], response.json["failed"]) == (0, 1, 1)


def test_the_json_keys_and_iso_times_import_too(client, office, lot, day, accounts):
    start, end = local(day, "10:00").isoformat(), local(day, "12:00").isoformat()
    sheet = f"account_number,window_start,window_end,priority\nBNT-4,{start},{end},urgent\n"
    response = post_import(client, office, lot, sheet)
    assert response.status_code == 200, response.json
    visit = client.get(f"/api/v1/visits/{response.json['rows'][0]['visit_id']}", headers=office).json
    assert datetime.fromisoformat(visit["window_start"]) == local(day, "10:00")
    assert visit["priority"] == "urgent"
