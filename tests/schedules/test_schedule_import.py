"""Importing a real, messy spreadsheet: never the wrong customer, forgiving about layout, and
hostile files refused quickly within bounded memory."""

import io
import time
import tracemalloc

import openpyxl
import pytest

from benchmarks import hostile_workbooks as hostile
from tests.timing import days_ahead, local


@pytest.fixture
def lot(make_dealership):
    return make_dealership(code="BNT")


@pytest.fixture
def day():
    return days_ahead(2, "00:00").date()


@pytest.fixture
def amanda(lot, make_account):
    return make_account(lot, account_number="BNT-10018", customer_name="Amanda García")


def post_import(client, headers, lot, content, name="sheet.csv", **query):
    if isinstance(content, str):
        content = content.encode("utf-8")
    params = "&".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in query.items())
    return client.post(
        f"/api/v1/schedules/import?dealership_id={lot.id}&{params}",
        data={"file": (io.BytesIO(content), name)},
        headers=headers,
        content_type="multipart/form-data",
    )


def test_a_typo_in_an_account_number_never_books_the_wrong_customer(client, office, lot, day, amanda):
    sheet = (
        "Date,Account #,Customer,Time\n"
        f"{day},BNT-10018,Wrong Person,9am-12pm\n"
        f'{day},BNT-10018,"garcia,  AMANDA",9am-12pm\n'
        f"{day},BNT-10018,Amanda  Garcia.,1pm-3pm\n"
    )
    response = post_import(client, office, lot, sheet, partial=True)
    assert response.status_code == 200, response.json
    wrong, reversed_name, plain = response.json["rows"]
    assert (wrong["status"], wrong["code"]) == ("error", "customer_mismatch")
    assert "Amanda García" in wrong["errors"]["customer_name"][0]
    assert reversed_name["status"] == plain["status"] == "created"
    assert client.get("/api/v1/visits", headers=office).json.__len__() == 2
    refused = post_import(client, office, lot, f"Account #,Customer,Date,Time\nBNT-10018,Wrong Person,{day},1pm-2pm\n")
    assert refused.status_code == 422 and refused.json["rows"][0]["code"] == "customer_mismatch"


def test_the_header_may_sit_under_a_title_and_blank_rows(client, office, lot, day, amanda):
    sheet = f"Bentonville schedule,,\n,,\n\nAcct #,Date,Time\nBNT-10018,{day},9am-12pm\n"
    response = post_import(client, office, lot, sheet, dry_run=True)
    assert response.status_code == 200, response.json
    assert [(r["row"], r["status"]) for r in response.json["rows"]] == [(5, "valid")]
    workbook = openpyxl.Workbook()
    workbook.active.append(["Schedule for the week"])
    workbook.active.append([])
    workbook.active.append(["Account #", "Date", "Time"])
    workbook.active.append(["BNT-10018", day, "9am-12pm"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = post_import(client, office, lot, buffer.getvalue(), name="week.xlsx", dry_run=True)
    assert [(r["row"], r["status"]) for r in response.json["rows"]] == [(4, "valid")]


def test_a_days_sheet_without_a_date_column_takes_the_date_parameter(client, office, lot, day, amanda):
    sheet = "Account #,Time\nBNT-10018,9am-12pm\n"
    refused = post_import(client, office, lot, sheet, dry_run=True)
    assert refused.status_code == 422
    assert refused.json["code"] == "date_required" and "date" in refused.json["errors"]
    response = post_import(client, office, lot, sheet, date=day.isoformat())
    assert response.status_code == 200, response.json
    visit = client.get(f"/api/v1/visits/{response.json['rows'][0]['visit_id']}", headers=office).json
    assert visit["scheduled_date"] == day.isoformat()


def test_a_rep_may_be_named_by_full_name_unique_first_name_or_email(client, office, lot, day, make_user, make_account):
    luis = make_user("rep", dealerships=[lot], name="Luis Ortega", email="luis@example.com")
    make_user("rep", dealerships=[lot], name="Ana Ruiz")
    make_user("rep", dealerships=[lot], name="Ana Soto")
    for n in range(1, 6):
        make_account(lot, account_number=f"BNT-{n}")
    sheet = (
        "Account #,Date,Time,Rep\n"
        f"BNT-1,{day},9am-10am,Luis\n"
        f"BNT-2,{day},9am-10am,luis ortega\n"
        f"BNT-3,{day},9am-10am,LUIS@example.com\n"
        f"BNT-4,{day},9am-10am,Ana\n"
        f"BNT-5,{day},9am-10am,Ana Soto\n"
    )
    rows = post_import(client, office, lot, sheet, dry_run=True).json["rows"]
    assert [r.get("rep_id") for r in rows[:3]] == [luis.id] * 3
    assert [r["rep_name"] for r in rows[:3]] == ["Luis Ortega"] * 3
    assert rows[3]["status"] == "error" and "More than one rep" in rows[3]["errors"]["rep"][0]
    assert rows[4]["rep_name"] == "Ana Soto"


def test_a_dry_run_shows_what_each_row_would_book(client, office, lot, day, amanda, make_user):
    rep = make_user("rep", dealerships=[lot], name="Zoe Young")
    sheet = f"Account #,Date,Time,Rep\nbnt-10018,{day.strftime('%m/%d/%Y')},1-4pm,Zoe\n"
    row = post_import(client, office, lot, sheet, dry_run=True).json["rows"][0]
    assert row == {
        "row": 2,
        "status": "valid",
        "visit_id": None,
        "errors": None,
        "account_number": "BNT-10018",
        "customer_name": "Amanda García",
        "date": day.isoformat(),
        "window_start": local(day, "13:00").isoformat(),
        "window_end": local(day, "16:00").isoformat(),
        "rep_id": rep.id,
        "rep_name": "Zoe Young",
    }


def test_a_date_beyond_the_calendar_fails_only_its_row(client, office, lot, day, amanda, make_account):
    make_account(lot, account_number="BNT-2")
    sheet = (
        "Account #,Window Start,Window End\n"
        "BNT-2,9999-12-31T23:00:00-14:00,9999-12-31T23:30:00-14:00\n"
        f"BNT-10018,{local(day, '09:00').isoformat()},{local(day, '10:00').isoformat()}\n"
    )
    response = post_import(client, office, lot, sheet, partial=True)
    assert response.status_code == 200, response.json
    far, good = response.json["rows"]
    assert far["status"] == "error" and "window" in far["errors"]
    assert good["status"] == "created"


def test_an_excel_serial_date_must_be_a_sane_day(client, office, lot, day, amanda):
    response = post_import(client, office, lot, "Account #,Date,Time\nBNT-10018,99999,9am-12pm\n", dry_run=True)
    row = response.json["rows"][0]
    assert row["status"] == "error" and "2000-2099" in row["errors"]["date"][0]
    workbook = openpyxl.Workbook()
    workbook.active.append(["Account #", "Date", "Time"])
    workbook.active.append(["BNT-10018", 99999, "9am-12pm"])
    workbook.active.append(["BNT-10018", (day - local(day, "00:00").date().replace(year=1899, month=12, day=30)).days,
                            "1pm-2pm"])  # fmt: skip
    buffer = io.BytesIO()
    workbook.save(buffer)
    rows = post_import(client, office, lot, buffer.getvalue(), name="d.xlsx", dry_run=True).json["rows"]
    assert rows[0]["status"] == "error" and "date" in rows[0]["errors"]
    assert (rows[1]["status"], rows[1]["date"]) == ("valid", day.isoformat())


def test_the_import_keeps_the_booking_rules_counting_the_files_own_rows(client, office, lot, amanda, make_account):
    restricted = make_account(lot, account_number="BNT-9", restrictions={"bankruptcy": True}, restriction_note="Ch 7")
    days = [days_ahead(n, "00:00").date() for n in (2, 3, 4, 5)]
    sheet = "Account #,Date,Time\n" + "".join(f"BNT-10018,{d},9am-12pm\n" for d in days)
    sheet += f"BNT-9,{days[0]},9am-12pm\nBNT-10018,{days[0]},9am-12pm\nBNT-10018,{days[0]},6am-7am\n"
    rows = post_import(client, office, lot, sheet, dry_run=True).json["rows"]
    assert [r["status"] for r in rows] == ["valid", "valid", "valid", "error", "error", "duplicate", "error"]
    assert [rows[i]["code"] for i in (3, 4, 6)] == [
        "visit_frequency_limit",
        "contact_restricted",
        "outside_contact_hours",
    ]
    assert restricted.bankruptcy
    created = post_import(client, office, lot, sheet, partial=True).json
    assert created["created"] == 3
    entries = client.get("/api/v1/audit?entity_type=visit", headers=office).json
    assert sum(1 for e in entries if e["action"] == "visit.booked") == 3
    again = post_import(client, office, lot, f"Account #,Date,Time\nBNT-10018,{days[0]},1pm-2pm\n", dry_run=True)
    assert again.json["rows"][0]["code"] == "visit_frequency_limit"


def test_a_file_over_the_row_limit_is_refused_whole(client, app, office, lot, day, amanda, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    sheet = "Account #,Date,Time\n" + f"BNT-10018,{day},9am-12pm\n" * 4
    response = post_import(client, office, lot, sheet, dry_run=True)
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert response.json["code"] == "file_too_large" and "at most 3" in response.json["detail"]
    assert post_import(client, office, lot, sheet.rsplit("BNT", 1)[0], dry_run=True).status_code == 200


@pytest.mark.parametrize(
    ("build", "status"),
    [
        (lambda: hostile.declared_everything("BNT-10018", "2030-01-02"), 200),
        (hostile.zip_bomb, 413),
        (hostile.huge_shared_strings, 413),
        (hostile.thousands_of_sheets, 413),
        (hostile.one_wide_sheet, 413),
    ],
    ids=["declared-A1:XFD1048576", "zip-bomb", "huge-shared-strings", "thousands-of-sheets", "wide-rows"],
)
def test_a_hostile_workbook_is_answered_at_once_in_little_memory(client, office, lot, amanda, build, status):
    content = build()
    tracemalloc.start()
    started = time.perf_counter()
    response = post_import(client, office, lot, content, name="hostile.xlsx", dry_run=True)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json" if status != 200 else True
    assert elapsed < 3, elapsed
    assert peak < 100 * 2**20, peak
    if status == 200:
        assert [(r["row"], r["status"]) for r in response.json["rows"]] == [(1048576, "valid")]


def test_a_reps_phone_syncs_the_visits_an_import_booked_for_them_and_their_accounts(
    client, office, lot, day, amanda, make_user, login
):
    rep = make_user("rep", dealerships=[lot], name="Luis Ortega")
    rep_headers = login(rep)
    cursor = client.get("/api/v1/sync", headers=rep_headers).json["cursor"]
    sheet = f"Date,Account #,Customer,Time,Rep\n{day},BNT-10018,Amanda Garcia,9am-12pm,Luis\n"
    response = post_import(client, office, lot, sheet)
    assert response.status_code == 200, response.json
    visit_id = response.json["rows"][0]["visit_id"]

    page = client.get("/api/v1/sync", query_string={"since": cursor}, headers=rep_headers).json
    assert [v["id"] for v in page["visits"]] == [visit_id]
    assert [a["id"] for a in page["accounts"]] == [amanda.id]
