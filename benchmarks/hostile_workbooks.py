"""Hostile spreadsheets sent to `POST /schedules/import?dry_run=true`: how long each takes to be
answered and how much memory it costs (Python's allocations, traced, and the process's peak RSS).

    python -m benchmarks.hostile_workbooks

Runs on a scratch SQLite database. The builders are shared with the tests.
"""

from __future__ import annotations

import io
import resource
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{overrides}</Types>"
)
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>'
)
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(rows: str, dimension: str = "A1:C2", padding: int = 0) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{SHEET_NS}">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData>{" " * padding}</worksheet>'
    )


def workbook(sheets: list[str], extra: dict[str, str] | None = None) -> bytes:
    """A minimal .xlsx holding these sheet XMLs (and any extra parts), built by hand."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{SHEET_TYPE}"/>'
            for n in range(1, len(sheets) + 1)
        )
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(overrides=overrides))
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr(
            "xl/workbook.xml",
            WORKBOOK.format(
                sheets="".join(f'<sheet name="S{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, len(sheets) + 1))
            ),
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            WORKBOOK_RELS.format(
                rels="".join(
                    f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    f'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
                    for n in range(1, len(sheets) + 1)
                )
            ),
        )
        for n, xml in enumerate(sheets, start=1):
            archive.writestr(f"xl/worksheets/sheet{n}.xml", xml)
        for name, xml in (extra or {}).items():
            archive.writestr(name, xml)
    return buffer.getvalue()


HEADER_ROW = '<row r="1">' + cell("A1", "Account #") + cell("B1", "Date") + cell("C1", "Time") + "</row>"


def declared_everything(account_number: str, day: str) -> bytes:
    """Declares A1:XFD1048576, holds a header in row 1 and one row at 1048576 (about 1.6 KB)."""
    last = (
        '<row r="1048576">'
        + cell("A1048576", account_number)
        + cell("B1048576", day)
        + cell("C1048576", "9am-12pm")
        + cell("XFD1048576", "far right")
        + "</row>"
    )
    return workbook([sheet_xml(HEADER_ROW + last, dimension="A1:XFD1048576")])


def zip_bomb(megabytes: int = 64) -> bytes:
    """A sheet padded with blanks that unpacks to `megabytes` MB from a few tens of KB."""
    return workbook([sheet_xml(HEADER_ROW, padding=megabytes * 1024 * 1024)])


def huge_shared_strings(megabytes: int = 12) -> bytes:
    """A shared-strings part of `megabytes` MB of distinct text (it compresses only so far)."""
    strings = "".join(f"<si><t>{n:x}{'x' * 40}{n * 7919 % 100003:x}</t></si>" for n in range(megabytes * 16_000))
    extra = {"xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{SHEET_NS}">{strings}</sst>'}
    return workbook([sheet_xml(HEADER_ROW)], extra)


def thousands_of_sheets(count: int = 3000) -> bytes:
    return workbook([sheet_xml(HEADER_ROW)] * count)


def one_wide_sheet(columns: int = 5000, rows: int = 40) -> bytes:
    """Rows thousands of cells wide (a schedule has about 20 columns)."""
    from openpyxl.utils import get_column_letter

    body = HEADER_ROW + "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{get_column_letter(c)}{r}"><v>1</v></c>' for c in range(1, columns + 1))
        + "</row>"
        for r in range(2, rows + 2)
    )
    return workbook([sheet_xml(body)])


def main() -> None:
    from field_ops import create_app
    from field_ops.core import migrations
    from field_ops.core.db import get_engine, transaction
    from field_ops.dealerships.models import Dealership
    from field_ops.users.service import create_user

    cases = {
        "declared A1:XFD1048576, row at 1048576": lambda: declared_everything("LOT-1", "2030-01-02"),
        "zip bomb (64 MB of blanks)": zip_bomb,
        "12 MB of shared strings": huge_shared_strings,
        "3,000 sheets": thousands_of_sheets,
        "40 rows of 5,000 cells": one_wide_sheet,
    }
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}", "TESTING": True})
        with app.app_context():
            migrations.upgrade(get_engine())
            with transaction() as session:
                lot = Dealership(code="LOT", name="Lot", address_line1="1 Main St", city="Bentonville",
                                 state="AR", postal_code="72712", latitude=36.359, longitude=-94.1966,
                                 timezone="America/Chicago")  # fmt: skip
                session.add(lot)
                session.flush()
                lot_id = lot.id
                create_user(session, actor=None, email="o@bench.example", name="O", role="specialist",
                            password="benchmark-password")  # fmt: skip
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": "o@bench.example", "password": "benchmark-password"})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        print("hostile workbook: status, seconds, traced Python peak, process peak RSS growth")
        for label, build in cases.items():
            content = build()

            def send():
                return client.post(
                    f"/api/v1/schedules/import?dealership_id={lot_id}&dry_run=true",
                    data={"file": (io.BytesIO(content), "hostile.xlsx")},  # noqa: B023
                    headers=headers,
                    content_type="multipart/form-data",
                )

            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            started = time.perf_counter()
            response = send()
            elapsed = time.perf_counter() - started
            grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
            tracemalloc.start()  # a second time, traced (tracing slows it down)
            send()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(
                f"{label} ({len(content) / 1024:.1f} KiB): {response.status_code} "
                f"{response.get_json().get('code', '')}, {elapsed:.2f} s, {peak / 2**20:.1f} MiB traced peak, "
                f"+{grown:.0f} MiB peak RSS"
            )


if __name__ == "__main__":
    main()
