"""The schedule as files people open: CSV and Excel, with the column names people read."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# (people's header, row key)
HEADERS = [
    ("Date", "date"),
    ("Dealership", "dealership_code"),
    ("Rep", "rep_name"),
    ("Stop #", "stop_number"),
    ("Window Start", "window_start"),
    ("Window End", "window_end"),
    ("ETA", "eta"),
    ("Customer", "customer_name"),
    ("Account #", "account_number"),
    ("Address", "address"),
    ("Phone", "phone"),
    ("Days Past Due", "days_past_due"),
    ("Amount Due", "amount_due"),
    ("Kind", "kind"),
    ("Reason", "reason"),
    ("Priority", "priority"),
    ("Status", "status"),
    ("Outcome", "outcome"),
    ("Booked By", "booked_by"),
    ("Notes", "notes"),
    ("Amount Collected", "amount_collected"),
    ("Promise Date", "promise_date"),
    ("Promise Amount", "promise_amount"),
]
TIME_KEYS = {"window_start", "window_end", "eta"}
DATE_KEYS = {"date", "promise_date"}
MONEY_KEYS = {"amount_due", "amount_collected", "promise_amount"}
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A sign followed by nothing but a number or a phone number (+1 (479) 555-0191, -12.50) is data.
SIGNED_NUMBER = re.compile(r"[+-][\d(][\d\s().-]*")
INVALID_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})
TITLE_ROW, HEADER_ROW = 1, 2


def neutralise_formula(text: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with ' (OWASP CSV injection):
    `=`, `@`, a tab or carriage return, or `+`/`-` followed by something that is not a number."""
    if text.startswith(("+", "-")) and SIGNED_NUMBER.fullmatch(text):
        return text
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _csv_cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key in TIME_KEYS:
        return value.strftime("%H:%M")
    if key in DATE_KEYS:
        return value.isoformat()
    if key in MONEY_KEYS:
        return f"{value:.2f}"
    return neutralise_formula(str(value))


def to_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 (with BOM, so Excel reads accents right), a header row, times in the lot's zone."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for header, _ in HEADERS])
    for row in rows:
        writer.writerow([_csv_cell(key, row[key]) for _, key in HEADERS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(name: str, taken: set[str]) -> str:
    title = (name.translate(INVALID_SHEET_CHARS).strip().strip("'").strip() or "Rep")[:31]
    candidate, n = title, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = title[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _write_sheet(sheet, rows: list[dict[str, Any]], title: str, formats: dict[str, Any]) -> None:
    """A title row, then the header (frozen, filtered and printed on every page), then the rows;
    printed landscape, one page wide."""
    widths = [len(header) for header, _ in HEADERS]
    for row in rows:
        for c, (_, key) in enumerate(HEADERS):
            widths[c] = max(widths[c], _width(key, row[key]))
    for c, width in enumerate(widths):
        sheet.set_column(c, c, min(width + 2, 60))
    header = HEADER_ROW - 1  # XlsxWriter counts rows from 0
    sheet.write_string(0, 0, ILLEGAL_CHARACTERS_RE.sub("", title), formats["title"])
    for c, (name, _) in enumerate(HEADERS):
        sheet.write_string(header, c, name, formats["header"])
    for r, row in enumerate(rows, start=header + 1):
        for c, (_, key) in enumerate(HEADERS):
            value = row[key]
            if value is None:
                continue
            if key in TIME_KEYS:
                # Excel has no zones: write the lot's wall-clock time, as people read it.
                sheet.write_datetime(r, c, value.replace(tzinfo=None), formats["time"])
            elif key in DATE_KEYS:
                sheet.write_datetime(r, c, value, formats["date"])
            elif key in MONEY_KEYS:
                sheet.write_number(r, c, float(value), formats["money"])
            elif isinstance(value, int) and not isinstance(value, bool):
                sheet.write_number(r, c, value)
            else:
                # Always text, never a formula, whatever it starts with.
                sheet.write_string(r, c, ILLEGAL_CHARACTERS_RE.sub("", str(value)))
    sheet.freeze_panes(header + 1, 0)
    sheet.repeat_rows(header)
    sheet.autofilter(header, 0, header + len(rows), len(HEADERS) - 1)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4)
    sheet.hide_gridlines(0)  # gridlines on screen and on paper
    sheet.set_header("&C" + title.replace("&", "&&"))
    sheet.set_footer("&CPage &P of &N")


def _width(key: str, value: Any) -> int:
    if value is None:
        return 0
    if key in TIME_KEYS:
        return 5
    if key in DATE_KEYS:
        return 10
    if key in MONEY_KEYS:
        return len(f"{value:,.2f}")
    return len(str(value))


def title_for(codes: list[str], day: date, versions: list[int]) -> str:
    """ "Schedule BNT 2026-12-03, published version 2" (or "not published yet")."""
    lots = ", ".join(codes) if codes else "no lot"
    published = [v for v in versions if v]
    if not published:
        state = "not published yet"
    elif len(versions) == 1:
        state = f"published version {published[0]}"
    else:
        state = "published versions " + ", ".join(f"{c} {v or '-'}" for c, v in zip(codes, versions, strict=False))
    return f"Schedule {lots} {day.isoformat()}, {state}"


def to_xlsx(rows: list[dict[str, Any]], title: str = "Schedule") -> bytes:
    """An "All" sheet, then one sheet per rep (and "Unassigned"), each with a title, a frozen and
    filtered header repeated on every printed page, printed landscape one page wide."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    formats = {
        "title": workbook.add_format({"bold": True, "font_size": 14}),
        "header": workbook.add_format({"bold": True}),
        "time": workbook.add_format({"num_format": "hh:mm"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "money": workbook.add_format({"num_format": "#,##0.00"}),
    }
    _write_sheet(workbook.add_worksheet("All"), rows, title, formats)
    taken = {"all"}
    per_rep: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        per_rep.setdefault(row["rep_id"], []).append(row)
    for rep_id in sorted(per_rep, key=lambda r: (r is None, (per_rep[r][0]["rep_name"] or "").lower(), r or 0)):
        name = per_rep[rep_id][0]["rep_name"] or "Unassigned"
        sheet = workbook.add_worksheet(_sheet_title(name, taken))
        _write_sheet(sheet, per_rep[rep_id], f"{title}: {name}", formats)
    workbook.close()
    return buffer.getvalue()


def file_name(codes: list[str], day: datetime | Any, extension: str) -> str:
    lot = codes[0] if len(codes) == 1 else "ALL"
    return f"schedule-{lot}-{day.isoformat()}.{extension}"
