"""The schedule as files people open: CSV and Excel, with the column names people read."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

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
]
TIME_KEYS = {"window_start", "window_end", "eta"}
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
    if key == "date":
        return value.isoformat()
    if key == "amount_due":
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
    title = (name.translate(INVALID_SHEET_CHARS).strip() or "Rep")[:31]
    candidate, n = title, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = title[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _cells(sheet, row: dict[str, Any], styles: dict[str, Any]) -> list[Any]:
    cells: list[Any] = []
    for _, key in HEADERS:
        value = row[key]
        if value is None:
            cells.append(None)
        elif key in TIME_KEYS:
            # Excel has no zones: write the lot's wall-clock time, as people read it.
            cells.append(_styled(sheet, value.replace(tzinfo=None), styles["time"]))
        elif key == "date":
            cells.append(_styled(sheet, value, styles["date"]))
        elif key == "amount_due":
            cells.append(_styled(sheet, float(value), styles["money"]))
        elif isinstance(value, int):
            cells.append(value)
        else:
            cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", str(value)))
            cell.data_type = "s"  # never a formula, whatever the text starts with
            cells.append(cell)
    return cells


def _styled(sheet, value: Any, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell


def _width(key: str, value: Any) -> int:
    if value is None:
        return 0
    if key in TIME_KEYS:
        return 5
    if key == "date":
        return 10
    if key == "amount_due":
        return len(f"{value:,.2f}")
    return len(str(value))


def _write_sheet(sheet, rows: list[dict[str, Any]], title: str) -> None:
    """A title row, then the header (frozen, filtered and printed on every page), then the rows;
    printed landscape, one page wide."""
    widths = [len(header) for header, _ in HEADERS]
    for row in rows:
        for c, (_, key) in enumerate(HEADERS):
            widths[c] = max(widths[c], _width(key, row[key]))
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(width + 2, 60)
    last_column = get_column_letter(len(HEADERS))
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{last_column}{HEADER_ROW + len(rows)}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.oddHeader.center.text = title.replace("&", "&&")
    sheet.oddFooter.center.text = "Page &P of &N"
    heading = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", title))
    heading.font, heading.data_type = Font(bold=True, size=14), "s"
    sheet.append([heading])
    header_cells = []
    for header, _ in HEADERS:
        cell = WriteOnlyCell(sheet, header)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    styles = {"time": "hh:mm", "date": "yyyy-mm-dd", "money": "#,##0.00"}
    for row in rows:
        sheet.append(_cells(sheet, row, styles))


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
    workbook = Workbook(write_only=True)
    _write_sheet(workbook.create_sheet("All"), rows, title)
    taken = {"all"}
    per_rep: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        per_rep.setdefault(row["rep_id"], []).append(row)
    for rep_id in sorted(per_rep, key=lambda r: (r is None, (per_rep[r][0]["rep_name"] or "").lower(), r or 0)):
        name = per_rep[rep_id][0]["rep_name"] or "Unassigned"
        _write_sheet(workbook.create_sheet(_sheet_title(name, taken)), per_rep[rep_id], f"{title}: {name}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def file_name(codes: list[str], day: datetime | Any, extension: str) -> str:
    lot = codes[0] if len(codes) == 1 else "ALL"
    return f"schedule-{lot}-{day.isoformat()}.{extension}"
