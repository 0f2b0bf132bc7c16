"""How the Excel schedule prints: one lot-day of 30 visits exported through the API, opened by
LibreOffice headless, converted to PDF (pages counted for the whole workbook and for the "All"
sheet alone) and its first page rendered to PNG for a person to look at.

    python -m benchmarks.schedule_print [--rows 30] [--out DIR]

Needs `soffice` (Debian: libreoffice-calc) and `pdftoppm`/`pdfinfo` (poppler-utils).
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import openpyxl

from benchmarks.schedule_files import PASSWORD, build
from field_ops import create_app
from field_ops.core import migrations
from field_ops.core.db import get_engine


def to_pdf(xlsx: Path, folder: Path) -> Path:
    profile = folder / "lo-profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(folder), str(xlsx)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return xlsx.with_suffix(".pdf")


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "schedule-print"))
    args = parser.parse_args()
    if not shutil.which("soffice"):
        raise SystemExit("soffice not found: apt-get install -y libreoffice-calc")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(folder) / 'print.sqlite3'}", "TESTING": True})
        with app.app_context():
            migrations.upgrade(get_engine())
        lot_id, day = build(app, args.rows, args.rows)
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": "office@bench.example", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        response = client.get(f"/api/v1/schedules/{day}?dealership_id={lot_id}&format=xlsx", headers=headers)
        assert response.status_code == 200
    workbook_path = out / "schedule.xlsx"
    workbook_path.write_bytes(response.data)
    only_all = openpyxl.load_workbook(io.BytesIO(response.data))
    for name in only_all.sheetnames[1:]:
        del only_all[name]
    all_path = out / "schedule-all.xlsx"
    only_all.save(all_path)
    started = time.perf_counter()
    whole_pdf, all_pdf = to_pdf(workbook_path, out), to_pdf(all_path, out)
    elapsed = time.perf_counter() - started
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(all_pdf), str(out / "page")], check=True)
    sheets = len(openpyxl.load_workbook(workbook_path, read_only=True).sheetnames)
    print(f"{args.rows} rows, {sheets} sheets (All + one per rep), converted by LibreOffice in {elapsed:.1f} s")
    print(f"whole workbook: {pages(whole_pdf)} PDF pages; the All sheet alone: {pages(all_pdf)} page(s)")
    print(f"first page of the All sheet: {next(out.glob('page*.png'))}")


if __name__ == "__main__":
    main()
