"""Importing the old spreadsheet: rows as people typed them, each booked by the same rules as
`POST /visits`. Header names are matched case- and space-insensitively, with common aliases."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from field_ops.accounts.models import Account
from field_ops.core.db import utcnow
from field_ops.core.errors import ProblemError, ValidationFailed
from field_ops.dealerships.models import Dealership
from field_ops.users.models import Role, User, user_dealerships
from field_ops.visits.models import Visit, VisitKind, VisitStatus
from field_ops.visits.service import book_visit


class UnreadableFile(ValidationFailed):
    code, title = "unreadable_file", "The file cannot be read"


class ImportFailed(ValidationFailed):
    code, title = "import_failed", "Some rows cannot be imported"


ALIASES = {
    "account_number": ["accountnumber", "account#", "acct#", "acct", "accountno", "acctno", "account", "acctnumber"],
    "customer_name": ["customername", "customer", "name", "customer name"],
    "date": ["date", "visitdate", "scheduleddate", "day"],
    "window_start": ["windowstart", "start", "from", "starttime"],
    "window_end": ["windowend", "end", "to", "endtime"],
    "window": ["time", "window", "timewindow", "times"],
    "rep": ["rep", "repname", "assignedrep", "repemail", "rep_id", "repid"],
    "kind": ["kind", "type", "visittype"],
    "priority": ["priority"],
    "reason": ["reason"],
    "notes": ["notes", "note", "comments"],
    "duration_minutes": ["durationminutes", "duration", "minutes"],
    "status": ["status"],
}
SKIPPED_STATUSES = {"cancelled", "missed"}
HEADER_TO_FIELD = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
KINDS = {
    "personalvisit": VisitKind.PERSONAL_VISIT,
    "pv": VisitKind.PERSONAL_VISIT,
    "visit": VisitKind.PERSONAL_VISIT,
    "dealershipappointment": VisitKind.DEALERSHIP_APPOINTMENT,
    "appointment": VisitKind.DEALERSHIP_APPOINTMENT,
    "appt": VisitKind.DEALERSHIP_APPOINTMENT,
}
PRIORITIES = {"low", "normal", "high", "urgent"}
EXCEL_EPOCH = datetime(1899, 12, 30)
CLOCK = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?(?::\d{2})?\s*([ap])?\.?\s*m?\.?\s*$", re.IGNORECASE)


@dataclass
class RowResult:
    row: int
    status: str
    visit_id: int | None = None
    errors: dict[str, list[str]] | None = None
    code: str | None = None


@dataclass
class ImportResult:
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.status == "created")

    @property
    def valid(self) -> int:
        return sum(1 for r in self.rows if r.status == "valid")

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.status == "error")

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "created": self.created,
            "valid": self.valid,
            "failed": self.failed,
            "rows": [
                {k: v for k, v in vars(r).items() if v is not None or k in ("visit_id", "errors")} for r in self.rows
            ],
        }


def _normalise_header(text: Any) -> str:
    return re.sub(r"[\s_.\-:/]+", "", str(text or "").strip().lower())


def read_table(content: bytes, filename: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows as {field: raw value} with their spreadsheet row numbers; blank rows dropped."""
    if content.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        raw_rows = _read_xlsx(content)
    elif filename.lower().endswith((".csv", ".txt")) or not filename:
        raw_rows = _read_csv(content)
    else:
        raise UnreadableFile(f"{filename}: send a CSV or an Excel (.xlsx) file.")
    if not raw_rows:
        raise UnreadableFile("The file is empty.")
    header_index = next((i for i, row in enumerate(raw_rows) if any(str(c or "").strip() for c in row)), None)
    if header_index is None:
        raise UnreadableFile("The file has no header row.")
    columns = [HEADER_TO_FIELD.get(_normalise_header(h)) for h in raw_rows[header_index]]
    if "account_number" not in columns:
        raise UnreadableFile("No account number column (expected a header such as 'Account #' or 'Acct #').")
    if "window" not in columns and not {"window_start", "window_end"} <= set(columns):
        raise UnreadableFile("No window columns ('Window Start' and 'Window End', or 'Time' such as 9am-12pm).")
    table = []
    for offset, raw in enumerate(raw_rows[header_index + 1 :], start=header_index + 2):
        values = {
            name: raw[i] for i, name in enumerate(columns) if name and i < len(raw) and str(raw[i] or "").strip() != ""
        }
        if any(str(v).strip() for v in values.values()):
            table.append((offset, values))
    return table


def _read_csv(content: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly anything
        raise UnreadableFile("The file is not text.")
    if "\x00" in text:
        raise UnreadableFile("The file is not a CSV (it holds binary data).")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:
        raise UnreadableFile(f"The CSV cannot be parsed: {exc}.") from exc


def _read_xlsx(content: bytes) -> list[list[Any]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile("The Excel file cannot be opened (is it damaged, or not .xlsx?).") from exc
    sheet = workbook["All"] if "All" in workbook.sheetnames else workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _unescape(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("'") and value[1:2] in ("=", "+", "-", "@"):
            value = value[1:]
    return value


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d{5}(\.\d+)?", value.strip())):
        return (EXCEL_EPOCH + timedelta(days=float(value))).date()
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%Y/%m/%d", "%b %d %Y", "%B %d %Y"):
        try:
            return datetime.strptime(text.replace(",", ""), pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY).")


def _iso_moment(value: Any) -> datetime | None:
    """An ISO 8601 timestamp with an offset (the JSON export's form), else None."""
    if isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return moment if moment.tzinfo else None
    return None


def parse_clock(value: Any, meridiem_hint: str | None = None) -> time:
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, int | float) or re.fullmatch(r"0?\.\d+", str(value).strip()):
        minutes = round(float(value) % 1 * 24 * 60)
        return time(minutes // 60 % 24, minutes % 60)
    match = CLOCK.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a time (use 09:00, 9am or 9:30 PM).")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    meridiem = (match.group(3) or meridiem_hint or "").lower()
    if meridiem == "p" and hour < 12:
        hour += 12
    if meridiem == "a" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r} is not a time of day.")
    return time(hour, minute)


def parse_window(value: Any) -> tuple[time, time]:
    """'9am-12pm', '9-12', '09:00 - 12:00', '9:30 AM to 1 PM'."""
    parts = re.split(r"\s*(?:-|–|—|to)\s*", str(value).strip(), maxsplit=1, flags=re.IGNORECASE)
    if len(parts) != 2:
        raise ValueError(f"{value!r} is not a window (use 9am-12pm or 09:00-12:00).")
    end = parse_clock(parts[1])
    end_match = CLOCK.match(parts[1])
    start = parse_clock(parts[0])
    if end_match and end_match.group(3) and not re.search("[ap]", parts[0], re.I):
        # '1-4pm' is 13:00-16:00, but '11-2pm' is 11:00-14:00: borrow the end's pm only if it fits.
        hinted = parse_clock(parts[0], meridiem_hint=end_match.group(3))
        start = hinted if hinted < end else start
    if end <= start and not re.search("[ap]", parts[1], re.I) and end.hour < 12:
        end = time(end.hour + 12, end.minute)  # '9-1' means 9:00 to 13:00
    return start, end


def _rep_lookup(session: Session, dealership_id: int) -> dict[str, list[User]]:
    reps = session.scalars(
        select(User)
        .join(user_dealerships, user_dealerships.c.user_id == User.id)
        .where(user_dealerships.c.dealership_id == dealership_id, User.role == Role.REP)
    )
    index: dict[str, list[User]] = {}
    for rep in reps:
        for key in {rep.name.strip().lower(), rep.email.lower(), str(rep.id)}:
            index.setdefault(key, []).append(rep)
    return index


def _row_to_booking(
    dealership: Dealership, values: dict[str, Any], reps: dict[str, list[User]], accounts: dict[str, Account]
) -> dict[str, Any]:
    """The booking a row asks for; raises ValidationFailed naming the column at fault."""
    errors: dict[str, list[str]] = {}
    values = {k: _unescape(v) for k, v in values.items()}
    zone = ZoneInfo(dealership.timezone)
    booking: dict[str, Any] = {}

    number = str(values.get("account_number") or "").strip()
    account = None
    if not number:
        errors["account_number"] = ["Missing."]
    else:
        account = accounts.get(number.lower())
        if account is None:
            errors["account_number"] = [f"No account {number} at this dealership."]
        else:
            booking["account_id"] = account.id
    try:
        exact = [_iso_moment(values.get("window_start")), _iso_moment(values.get("window_end"))]
        day = parse_date(values["date"]) if "date" in values else (exact[0].date() if exact[0] else None)
        if day is None:
            errors["date"] = ["Missing."]
        if all(exact):
            start = end = None
            booking["window_start"], booking["window_end"] = exact
        elif "window" in values and not ("window_start" in values and "window_end" in values):
            start, end = parse_window(values["window"])
        else:
            start = parse_clock(values["window_start"]) if "window_start" in values else None
            end = parse_clock(values["window_end"]) if "window_end" in values else None
            if start is None or end is None:
                errors["window"] = ["Missing window start or end."]
        if day and start and end:
            booking["window_start"] = datetime.combine(day, start, tzinfo=zone)
            booking["window_end"] = datetime.combine(day, end, tzinfo=zone)
    except ValueError as exc:
        errors["window"] = [str(exc)]

    kind = _normalise_header(values.get("kind") or "personal_visit")
    if kind not in KINDS:
        errors["kind"] = [f"{values.get('kind')!r} is not personal_visit or dealership_appointment."]
    else:
        booking["kind"] = KINDS[kind]
    priority = str(values.get("priority") or "normal").strip().lower()
    if priority not in PRIORITIES:
        errors["priority"] = [f"{values.get('priority')!r} is not low, normal, high or urgent."]
    else:
        booking["priority"] = priority
    if values.get("duration_minutes") is not None:
        try:
            minutes = float(values["duration_minutes"])
        except ValueError:
            minutes = -1.0
        if not 5 <= minutes <= 480:
            errors["duration_minutes"] = ["Between 5 and 480 minutes."]
        else:
            booking["duration_minutes"] = int(minutes)
    rep_key = str(values.get("rep") or "").strip().lower()
    if rep_key:
        matches = reps.get(rep_key, [])
        if len(matches) != 1:
            problem = "No rep" if not matches else "More than one rep"
            errors["rep"] = [f"{problem} named {values['rep']!r} at this dealership."]
        else:
            booking["assigned_rep_id"] = matches[0].id
    for name in ("reason", "notes"):
        if values.get(name) is not None:
            booking[name] = str(values[name]).strip()[: 500 if name == "reason" else 4000]
    if errors:
        raise ValidationFailed.from_errors(errors)
    return booking


def import_schedule(
    session: Session,
    *,
    actor: User,
    dealership: Dealership,
    content: bytes,
    filename: str,
    dry_run: bool = False,
    partial: bool = False,
) -> ImportResult:
    """Book every row by the `POST /visits` rules. Nothing is written on a dry run, or when any
    row fails unless `partial`. Raises UnreadableFile, and ImportFailed (with the rows) when
    rows fail without `partial`."""
    table = read_table(content, filename)
    reps = _rep_lookup(session, dealership.id)
    accounts = {
        account.account_number.lower(): account
        for account in session.scalars(select(Account).where(Account.dealership_id == dealership.id))
    }
    booked = {
        (account_id, start, end): visit_id
        for visit_id, account_id, start, end in session.execute(
            select(Visit.id, Visit.account_id, Visit.window_start, Visit.window_end).where(
                Visit.dealership_id == dealership.id,
                Visit.status != VisitStatus.CANCELLED,
                Visit.window_end > utcnow() - timedelta(days=1),  # a past window cannot be booked again anyway
            )
        )
    }
    result = ImportResult(dry_run=dry_run)
    seen: dict[tuple[int, datetime, datetime], int] = {}
    everything = session.begin_nested()
    for row_number, values in table:
        if str(values.get("status") or "").strip().lower() in SKIPPED_STATUSES:
            result.rows.append(
                RowResult(
                    row=row_number, status="skipped", errors={"status": [f"{values['status']}: not booked again."]}
                )
            )
            continue
        try:
            booking = _row_to_booking(dealership, values, reps, accounts)
            key = (booking["account_id"], booking["window_start"], booking["window_end"])
            existing = seen.get(key) or booked.get(key)
            if existing:
                result.rows.append(RowResult(row=row_number, status="duplicate", visit_id=existing))
                continue
            with session.begin_nested():
                visit = book_visit(session, actor=actor, **booking)
            seen[key] = visit.id
            status = "valid" if dry_run else "created"
            result.rows.append(RowResult(row=row_number, status=status, visit_id=None if dry_run else visit.id))
        except ProblemError as error:
            result.rows.append(
                RowResult(
                    row=row_number, status="error", errors=error.errors or {"_row": [error.detail]}, code=error.code
                )
            )
    if dry_run or (result.failed and not partial):
        everything.rollback()
        for row in result.rows:
            if row.status == "created":
                row.status, row.visit_id = "valid", None
            elif row.status == "duplicate" and (row.visit_id in seen.values()):
                row.visit_id = None
    else:
        everything.commit()
    if result.failed and not partial and not dry_run:
        raise ImportFailed(
            f"{result.failed} of {len(result.rows)} rows cannot be imported; nothing was written. "
            "Fix them, or import with partial=true to keep the good rows.",
            **result.as_dict(),
        )
    return result
