"""Importing the old spreadsheet: rows as people typed them, each booked by the same rules as
`POST /visits`. Header names are matched case- and space-insensitively, with common aliases."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl import load_workbook
from openpyxl.worksheet._reader import WorkSheetParser
from sqlalchemy import select
from sqlalchemy.orm import Session

from field_ops.accounts.models import Account
from field_ops.core.errors import ProblemError, ValidationFailed
from field_ops.dealerships.models import Dealership
from field_ops.schedules.errors import CustomerMismatch, DateRequired, FileTooLarge, ImportFailed, UnreadableFile
from field_ops.users.models import Role, User, user_dealerships
from field_ops.visits import rules
from field_ops.visits.models import Visit, VisitKind, VisitStatus
from field_ops.visits.service import check_booking, record_bookings

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
# Dates a schedule can mean; an Excel serial date is taken only inside them (36526 is 2000-01-01).
EARLIEST_DATE, LATEST_DATE = date(2000, 1, 1), date(2099, 12, 31)
HEADER_SEARCH_ROWS = 20  # title and blank rows above the header
MAX_COLUMNS = 64
# An .xlsx is a zip: look at what it would unpack to before parsing any of it.
XLSX_MAX_MEMBERS = 200
XLSX_MAX_MEMBER_BYTES = 32 * 1024 * 1024
XLSX_MAX_TOTAL_BYTES = 48 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS_BYTES = 8 * 1024 * 1024
XLSX_MAX_RATIO = 100  # uncompressed / compressed, for members over 1 MiB
XLSX_MAX_SHEETS = 100
XLSX_MAX_ROW_CELLS = 4 * MAX_COLUMNS
XLSX_CELLS_PER_ROW = 32  # on average, however wide a row: a schedule has about 20 columns
LOCK_CHUNK = 1000
CLOCK = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?(?::\d{2})?\s*([ap])?\.?\s*m?\.?\s*$", re.IGNORECASE)


@dataclass
class RowResult:
    row: int
    status: str
    visit_id: int | None = None
    errors: dict[str, list[str]] | None = None
    code: str | None = None
    # What the row books (or would book), for a specialist to check before committing.
    customer_name: str | None = None
    account_number: str | None = None
    date: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    rep_id: int | None = None
    rep_name: str | None = None


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


@dataclass
class Table:
    columns: set[str]
    rows: list[tuple[int, dict[str, Any]]]


def _normalise_header(text: Any) -> str:
    return re.sub(r"[\s_.\-:/]+", "", str(text or "").strip().lower())


def _blank(cells: Any) -> bool:
    return not any(c is not None and str(c).strip() for c in cells)


def read_table(content: bytes, filename: str, max_rows: int) -> Table:
    """Rows as {field: raw value} with their spreadsheet row numbers; blank rows dropped. The header
    is the first of the top rows naming an account number column (a title may sit above it).
    Raises UnreadableFile, and FileTooLarge past `max_rows` rows."""
    if content.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        raw_rows = _read_xlsx(content, max_cells=(max_rows + HEADER_SEARCH_ROWS) * XLSX_CELLS_PER_ROW)
    elif filename.lower().endswith((".csv", ".txt")) or not filename:
        raw_rows = _read_csv(content)
    else:
        raise UnreadableFile(f"{filename}: send a CSV or an Excel (.xlsx) file.")
    columns: list[str | None] | None = None
    table: list[tuple[int, dict[str, Any]]] = []
    seen_any = False
    for number, raw in raw_rows:
        if columns is None:
            seen_any = seen_any or not _blank(raw)
            names = [HEADER_TO_FIELD.get(_normalise_header(h)) for h in raw]
            if "account_number" in names:
                columns = names
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if _blank(raw):
            continue
        if len(table) >= max_rows:
            raise FileTooLarge(f"The file has more than {max_rows} rows: split it into files of at most {max_rows}.")
        values = {name: raw[i] for i, name in enumerate(columns) if name and i < len(raw) and not _blank([raw[i]])}
        if values:
            table.append((number, values))
    if columns is None:
        if not seen_any:
            raise UnreadableFile("The file is empty.")
        raise UnreadableFile(
            f"No account number column in the first {HEADER_SEARCH_ROWS} rows "
            "(expected a header such as 'Account #' or 'Acct #')."
        )
    if "window" not in columns and not {"window_start", "window_end"} <= set(columns):
        raise UnreadableFile("No window columns ('Window Start' and 'Window End', or 'Time' such as 9am-12pm).")
    return Table(columns={c for c in columns if c}, rows=table)


def _read_csv(content: bytes) -> Iterator[tuple[int, list[str]]]:
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
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for number, row in enumerate(reader, start=1):
            yield number, row[:MAX_COLUMNS]
    except csv.Error as exc:
        raise UnreadableFile(f"The CSV cannot be parsed: {exc}.") from exc


def _check_zip(content: bytes) -> None:
    """Refuse a workbook that would unpack into far more than it weighs (a zip bomb), or holds
    more parts, sheets or shared text than a schedule could, before any XML is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableFile("The Excel file cannot be opened (is it damaged, or not .xlsx?).") from exc
    if len(members) > XLSX_MAX_MEMBERS:
        raise FileTooLarge(f"The workbook has {len(members)} parts: a schedule needs far fewer.")
    sheets = sum(1 for m in members if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml"))
    if sheets > XLSX_MAX_SHEETS:
        raise FileTooLarge(f"The workbook has {sheets} sheets: send the schedule on at most {XLSX_MAX_SHEETS}.")
    total = 0
    for member in members:
        size = member.file_size
        total += size
        if size > XLSX_MAX_MEMBER_BYTES or total > XLSX_MAX_TOTAL_BYTES:
            raise FileTooLarge("The workbook unpacks to more than a schedule can hold: split it.")
        if member.filename == "xl/sharedStrings.xml" and size > XLSX_MAX_SHARED_STRINGS_BYTES:
            raise FileTooLarge("The workbook holds more text than a schedule can: split it.")
        if size > 1024 * 1024 and size > XLSX_MAX_RATIO * max(member.compress_size, 1):
            raise FileTooLarge("The workbook unpacks to far more than it weighs (a zip bomb?): refused.")


def _check_cells(content: bytes, path: str, max_cells: int) -> None:
    """Count the sheet's cells with the C XML parser before openpyxl's slower one reads any:
    refuse more than `max_cells`, or a row far wider than a schedule."""
    cells = row_cells = 0
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open(path.lstrip("/")) as stream:
            for _, element in ElementTree.iterparse(stream, events=("end",)):
                tag = element.tag.rpartition("}")[2]
                if tag == "c":
                    cells, row_cells = cells + 1, row_cells + 1
                    element.clear()
                elif tag == "row":
                    if row_cells > XLSX_MAX_ROW_CELLS:
                        raise FileTooLarge(
                            f"Row {element.get('r', '?')} of the sheet has {row_cells} cells: a schedule has "
                            f"about 20 columns. Copy the schedule's columns into a new sheet."
                        )
                    row_cells = 0
                    element.clear()
                if cells > max_cells:
                    raise FileTooLarge("The sheet holds more cells than a schedule can: split it.")
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError) as exc:
        raise UnreadableFile(f"The Excel sheet cannot be read: {exc}.") from exc


def _read_xlsx(content: bytes, max_cells: int) -> Iterator[tuple[int, list[Any]]]:
    """The rows present in the "All" sheet (else the first), with their row numbers, at most
    MAX_COLUMNS wide. Neither the declared dimension nor the gaps between rows are trusted: a
    sheet declaring A1:XFD1048576 with a row at 1048576 costs the two rows it holds. Past
    `max_cells` cells (however wide the rows are) it raises FileTooLarge."""
    _check_zip(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook["All"] if "All" in workbook.sheetnames else workbook.worksheets[0]
        sheet.reset_dimensions()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError) as exc:
        raise UnreadableFile("The Excel file cannot be opened (is it damaged, or not .xlsx?).") from exc
    _check_cells(content, sheet._worksheet_path, max_cells)
    cells = 0
    try:
        # openpyxl's own row parser, without `iter_rows`, which yields every missing row in a gap.
        with sheet._get_source() as source:
            parser = WorkSheetParser(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            for number, row in parser.parse():
                cells += len(row)
                if cells > max_cells:
                    raise FileTooLarge("The sheet holds more cells than a schedule can: split it.")
                yield number, list(sheet._get_row(row, 1, MAX_COLUMNS, values_only=True))
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile, SyntaxError) as exc:
        raise UnreadableFile(f"The Excel sheet cannot be read: {exc}.") from exc
    finally:
        workbook.close()


def _unescape(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("'") and value[1:2] in ("=", "+", "-", "@"):
            value = value[1:]
    return value


def _bounded(day: date, text: Any) -> date:
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"{text!r} is not a date a schedule can hold ({EARLIEST_DATE.year}-{LATEST_DATE.year}).")
    return day


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return _bounded(value.date(), value)
    if isinstance(value, date):
        return _bounded(value, value)
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d{5}(\.\d+)?", value.strip())):
        serial = float(value)
        first, last = ((d - EXCEL_EPOCH.date()).days for d in (EARLIEST_DATE, LATEST_DATE))
        if not first <= serial < last + 1:
            raise ValueError(
                f"{value!r} is not a date (as an Excel serial date it is outside {EARLIEST_DATE.year}-"
                f"{LATEST_DATE.year}; use YYYY-MM-DD)."
            )
        return (EXCEL_EPOCH + timedelta(days=serial)).date()
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%Y/%m/%d", "%b %d %Y", "%B %d %Y"):
        try:
            parsed = datetime.strptime(text.replace(",", ""), pattern).date()
        except ValueError:
            continue
        return _bounded(parsed, text)
    raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY).")


def _iso_moment(value: Any) -> datetime | None:
    """An ISO 8601 timestamp with an offset (the JSON export's form), else None. Raises ValueError
    for one outside the years a schedule can hold (9999-12-31T23:00:00-14:00 is past year 9999 in UTC)."""
    if isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if moment.tzinfo is None:
            return None
        _bounded(moment.date(), value)
        return moment
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


def _name_key(name: Any) -> str:
    """A person's name as compared: accents folded, case, spacing and punctuation dropped, and
    "Last, First" read as "First Last"."""
    text = _fold(name)
    if text.count(",") == 1:
        last, first = text.split(",")
        text = f"{first} {last}"
    return re.sub(r"[\W_]+", "", text)


def _same_person(written: Any, on_file: str) -> bool:
    """The same name, or the same words in another order ("Garcia Amanda")."""
    words = [sorted(re.sub(r"[\W_]+", " ", _fold(text)).split()) for text in (written, on_file)]
    return _name_key(written) == _name_key(on_file) or words[0] == words[1]


def _fold(text: Any) -> str:
    """Accents folded ("Peña" is "pena"), case dropped."""
    text = unicodedata.normalize("NFKD", str(text or ""))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


@dataclass
class RepIndex:
    exact: dict[str, list[User]]
    first_names: dict[str, list[User]]

    def find(self, written: str) -> list[User]:
        key = " ".join(written.split()).lower()
        return self.exact.get(key) or self.first_names.get(key, [])


def _rep_lookup(session: Session, dealership_id: int) -> RepIndex:
    reps = session.scalars(
        select(User)
        .join(user_dealerships, user_dealerships.c.user_id == User.id)
        .where(user_dealerships.c.dealership_id == dealership_id, User.role == Role.REP)
    )
    index = RepIndex({}, {})
    for rep in reps:
        full = " ".join(rep.name.split()).lower()
        for key in {full, rep.email.lower(), str(rep.id)}:
            index.exact.setdefault(key, []).append(rep)
        if full:
            index.first_names.setdefault(full.split()[0], []).append(rep)
    return index


@dataclass
class Booking:
    row: int
    account: Account
    window_start: datetime
    window_end: datetime
    kind: str
    priority: str
    duration_minutes: int
    rep: User | None
    reason: str | None
    notes: str | None

    @property
    def key(self) -> tuple[int, datetime, datetime]:
        return self.account.id, self.window_start, self.window_end


def _row_to_booking(
    dealership: Dealership,
    row_number: int,
    values: dict[str, Any],
    reps: RepIndex,
    accounts: dict[str, Account],
    default_date: date | None,
    result: RowResult,
) -> Booking:
    """The booking a row asks for; raises ValidationFailed naming the column at fault (and
    CustomerMismatch when the name written is not the account's customer). Fills in `result`
    with what it understood."""
    errors: dict[str, list[str]] = {}
    values = {k: _unescape(v) for k, v in values.items()}
    zone = ZoneInfo(dealership.timezone)
    booking: dict[str, Any] = {}
    mismatch = False

    number = str(values.get("account_number") or "").strip()
    account = None
    if not number:
        errors["account_number"] = ["Missing."]
    else:
        account = accounts.get(number.lower())
        if account is None:
            errors["account_number"] = [f"No account {number} at this dealership."]
        else:
            result.account_number, result.customer_name = account.account_number, account.customer_name
            written = values.get("customer_name")
            if written is not None and not _same_person(written, account.customer_name):
                mismatch = True
                errors["customer_name"] = [
                    f"{str(written).strip()!r} is not the customer of {account.account_number} "
                    f"({account.customer_name}): check the account number."
                ]
    start = end = day = None
    exact: list[datetime | None] = [None, None]
    try:
        exact = [_iso_moment(values.get("window_start")), _iso_moment(values.get("window_end"))]
    except ValueError as exc:
        errors["window"] = [str(exc)]
    try:
        if "date" in values:
            day = parse_date(values["date"])
        elif exact[0]:
            day = exact[0].astimezone(zone).date()
        else:
            day = default_date
        if day is None:
            errors["date"] = ["Missing."]
    except ValueError as exc:
        errors["date"] = [str(exc)]
    try:
        if all(exact):
            booking["window_start"], booking["window_end"] = exact
        elif "window" in errors:
            pass
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
    if "window_start" in booking:
        local_start, local_end = (booking[k].astimezone(zone) for k in ("window_start", "window_end"))
        result.date = local_start.date().isoformat()
        result.window_start, result.window_end = local_start.isoformat(), local_end.isoformat()

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
    booking["duration_minutes"] = 15
    if values.get("duration_minutes") is not None:
        try:
            minutes = float(values["duration_minutes"])
        except (TypeError, ValueError):
            minutes = -1.0
        if not 5 <= minutes <= 480:
            errors["duration_minutes"] = ["Between 5 and 480 minutes."]
        else:
            booking["duration_minutes"] = int(minutes)
    booking["rep"] = None
    rep_written = str(values.get("rep") or "").strip()
    if rep_written:
        matches = reps.find(rep_written)
        if len(matches) != 1:
            problem = "No rep" if not matches else "More than one rep"
            errors["rep"] = [f"{problem} named {rep_written!r} at this dealership (use the full name or email)."]
        else:
            booking["rep"] = matches[0]
            result.rep_id, result.rep_name = matches[0].id, matches[0].name
    for name in ("reason", "notes"):
        booking[name] = str(values[name]).strip()[: 500 if name == "reason" else 4000] if values.get(name) else None
    if errors:
        if mismatch:
            raise CustomerMismatch(
                f"Row {row_number}: the customer name does not match account {number}.", errors=errors
            )
        raise ValidationFailed.from_errors(errors)
    return Booking(row=row_number, account=account, **booking)


def _error(result: RowResult, error: ProblemError) -> None:
    result.status, result.code = "error", error.code
    result.errors = error.errors or {"_row": [error.detail]}


Attempt = tuple[int, int, datetime, datetime]


def _attempted_visits(session: Session, bookings: list[Booking], span: timedelta) -> set[Attempt]:
    """(id, account_id, window_start, window_end) of the visits that count for the rules of these
    bookings: the accounts' attempted (not cancelled) visits within `span` of any booked start."""
    if not bookings:
        return set()
    low = min(b.window_start for b in bookings) - span
    high = max(b.window_start for b in bookings) + span
    account_ids = sorted({b.account.id for b in bookings})
    found: set[Attempt] = set()
    for i in range(0, len(account_ids), LOCK_CHUNK):
        found.update(
            tuple(row)
            for row in session.execute(
                select(Visit.id, Visit.account_id, Visit.window_start, Visit.window_end).where(
                    Visit.account_id.in_(account_ids[i : i + LOCK_CHUNK]),
                    Visit.status != VisitStatus.CANCELLED,
                    Visit.window_start >= low,
                    Visit.window_start <= high,
                )
            )
        )
    return found


def _lock_accounts(session: Session, bookings: list[Booking]) -> None:
    """Lock the accounts about to be booked (in id order, as one booking would), so a booking made
    meanwhile cannot pass the frequency rule with them; held only while the rows are written."""
    account_ids = sorted({b.account.id for b in bookings})
    for i in range(0, len(account_ids), LOCK_CHUNK):
        session.execute(
            select(Account.id)
            .where(Account.id.in_(account_ids[i : i + LOCK_CHUNK]))
            .order_by(Account.id)
            .with_for_update()
        ).all()


def _check_bookings(
    session: Session,
    bookings: list[Booking],
    results: dict[int, RowResult],
    attempted: set[Attempt],
) -> dict[int, Booking]:
    """Each booking by the `POST /visits` rules, with the file's earlier rows counted as booked.
    Sets each row's status; returns the accepted bookings by row number."""
    starts: dict[int, list[datetime]] = {}
    booked: dict[tuple[int, datetime, datetime], int] = {}
    for visit_id, account_id, window_start, window_end in attempted:
        starts.setdefault(account_id, []).append(window_start)
        booked[(account_id, window_start, window_end)] = visit_id
    accepted: dict[int, Booking] = {}
    seen: dict[tuple[int, datetime, datetime], int] = {}
    for booking in bookings:
        result = results[booking.row]
        result.status, result.errors, result.code, result.visit_id = "valid", None, None, None
        if booking.key in seen or booking.key in booked:
            result.status, result.visit_id = "duplicate", booked.get(booking.key)
            continue
        try:
            check_booking(
                session,
                account=booking.account,
                window_start=booking.window_start,
                window_end=booking.window_end,
                kind=booking.kind,
                duration_minutes=booking.duration_minutes,
                assigned_rep_id=booking.rep.id if booking.rep else None,
                existing_starts=starts.get(booking.account.id, []),
            )
        except ProblemError as error:
            _error(result, error)
            continue
        starts.setdefault(booking.account.id, []).append(booking.window_start)
        seen[booking.key] = booking.row
        accepted[booking.row] = booking
    return accepted


def import_schedule(
    session: Session,
    *,
    actor: User,
    dealership: Dealership,
    content: bytes,
    filename: str,
    dry_run: bool = False,
    partial: bool = False,
    default_date: date | None = None,
    max_rows: int = 10_000,
) -> ImportResult:
    """Book every row by the `POST /visits` rules. Nothing is written on a dry run, or when any
    row fails unless `partial`. Rows without a date take `default_date`. Raises UnreadableFile,
    DateRequired, FileTooLarge, and ImportFailed (with the rows) when rows fail without `partial`.

    The rules are checked against the visits preloaded in a few queries; before writing, the
    accounts are locked and their visits read again, and the rows checked again only if those
    changed meanwhile. The visits and their audit entries are inserted in bulk."""
    table = read_table(content, filename, max_rows)
    if default_date is None and "date" not in table.columns and "window_start" not in table.columns:
        raise DateRequired(
            "The sheet has no Date column: give the day with date=YYYY-MM-DD.",
            errors={"date": ["No Date column in the file and no date= given."]},
        )
    if default_date is not None:
        _bounded(default_date, default_date.isoformat())
    reps = _rep_lookup(session, dealership.id)
    accounts = {
        account.account_number.lower(): account
        for account in session.scalars(select(Account).where(Account.dealership_id == dealership.id))
    }
    result = ImportResult(dry_run=dry_run)
    results: dict[int, RowResult] = {}
    bookings: list[Booking] = []
    for row_number, values in table.rows:
        row = RowResult(row=row_number, status="error")
        result.rows.append(row)
        results[row_number] = row
        if str(values.get("status") or "").strip().lower() in SKIPPED_STATUSES:
            row.status, row.errors = "skipped", {"status": [f"{values['status']}: not booked again."]}
            continue
        try:
            bookings.append(_row_to_booking(dealership, row_number, values, reps, accounts, default_date, row))
        except ProblemError as error:
            _error(row, error)
        except (ValueError, TypeError, OverflowError) as exc:
            _error(row, ValidationFailed(f"Row {row_number} cannot be read: {exc}."))
    policies = {rules.contact_policy(b.account.state, current_app.config) for b in bookings}
    span = timedelta(days=max((p.window_days for p in policies), default=0))
    attempted = _attempted_visits(session, bookings, span)
    accepted = _check_bookings(session, bookings, results, attempted)
    if accepted and not dry_run and not (result.failed and not partial):
        _lock_accounts(session, list(accepted.values()))
        again = _attempted_visits(session, bookings, span)
        if again != attempted:
            accepted = _check_bookings(session, bookings, results, again)
    if dry_run or (result.failed and not partial):
        if result.failed and not partial and not dry_run:
            raise ImportFailed(
                f"{result.failed} of {len(result.rows)} rows cannot be imported; nothing was written. "
                "Fix them, or import with partial=true to keep the good rows.",
                **result.as_dict(),
            )
        return result
    zone = ZoneInfo(dealership.timezone)
    rows = list(accepted)
    visit_ids = record_bookings(
        session,
        actor=actor,
        bookings=[
            {
                "account_id": b.account.id,
                "dealership_id": b.account.dealership_id,
                "kind": b.kind,
                "scheduled_date": b.window_start.astimezone(zone).date(),
                "window_start": b.window_start,
                "window_end": b.window_end,
                "duration_minutes": b.duration_minutes,
                "reason": b.reason,
                "priority": b.priority,
                "notes": b.notes,
                "assigned_rep_id": b.rep.id if b.rep else None,
            }
            for b in (accepted[row] for row in rows)
        ],
    )
    created = dict(zip(rows, visit_ids, strict=True))
    created_by_key = {accepted[row].key: visit_id for row, visit_id in created.items()}
    for booking in bookings:
        row = results[booking.row]
        if booking.row in created:
            row.status, row.visit_id = "created", created[booking.row]
        elif row.status == "duplicate" and row.visit_id is None:
            row.visit_id = created_by_key.get(booking.key)
    return result
