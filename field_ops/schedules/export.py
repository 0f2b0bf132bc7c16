"""The schedule as files people open: CSV and Excel, with the column names people read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

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
INVALID_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def neutralise_formula(text: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with ' (OWASP CSV injection)."""
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
    title = (name.translate(INVALID_SHEET_CHARS).strip() or "Rep")[:31]
    candidate, n = title, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = title[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _write_sheet(sheet, rows: list[dict[str, Any]]) -> None:
    sheet.append([header for header, _ in HEADERS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(header) for header, _ in HEADERS]
    for r, row in enumerate(rows, start=2):
        for c, (_, key) in enumerate(HEADERS, start=1):
            value = row[key]
            cell = sheet.cell(row=r, column=c)
            if value is None:
                continue
            if key in TIME_KEYS:
                # Excel has no zones: write the lot's wall-clock time, as people read it.
                cell.value = value.replace(tzinfo=None)
                cell.number_format = "hh:mm"
                shown = 5
            elif key in DATE_KEYS:
                cell.value = value
                cell.number_format = "yyyy-mm-dd"
                shown = 10
            elif key in MONEY_KEYS:
                cell.value = float(value)
                cell.number_format = "#,##0.00"
                shown = len(f"{value:,.2f}")
            elif isinstance(value, int):
                cell.value = value
                shown = len(str(value))
            else:
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", str(value))
                cell.data_type = "s"  # never a formula, whatever the text starts with
                shown = len(str(value))
            widths[c - 1] = max(widths[c - 1], shown)
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(width + 2, 60)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{max(len(rows) + 1, 1)}"


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """An "All" sheet, then one sheet per rep (and "Unassigned"), each with a frozen header and a filter."""
    workbook = Workbook()
    all_sheet = workbook.active
    all_sheet.title = "All"
    _write_sheet(all_sheet, rows)
    taken = {"all"}
    per_rep: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        per_rep.setdefault(row["rep_id"], []).append(row)
    for rep_id in sorted(per_rep, key=lambda r: (r is None, (per_rep[r][0]["rep_name"] or "").lower(), r or 0)):
        name = per_rep[rep_id][0]["rep_name"] or "Unassigned"
        _write_sheet(workbook.create_sheet(_sheet_title(name, taken)), per_rep[rep_id])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def file_name(codes: list[str], day: datetime | Any, extension: str) -> str:
    lot = codes[0] if len(codes) == 1 else "ALL"
    return f"schedule-{lot}-{day.isoformat()}.{extension}"
