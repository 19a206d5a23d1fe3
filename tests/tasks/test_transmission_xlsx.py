"""The nightly export as XLSX beside the CSV: same rows, typed dates and times."""

from __future__ import annotations

from datetime import datetime, time

from openpyxl import load_workbook

from portal.domain.transmission.service import run_transmission
from portal.settings import Settings
from tests.conftest import Database
from tests.factories import Night


async def test_export_has_an_xlsx_twin(db: Database, mail_settings: Settings, night: Night) -> None:
    report = await run_transmission(night.structure.id, settings=mail_settings)
    xlsx = report.export_path.with_suffix(".xlsx")
    sheet = load_workbook(xlsx).active
    assert sheet is not None and sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    csv_lines = report.export_path.read_bytes().decode("utf-8-sig").splitlines()
    assert len(rows) == len(csv_lines)
    assert rows[0] == tuple(csv_lines[0].split(";"))
    alsh = [r for r in rows[1:] if str(r[0]).startswith("ALSH")]
    assert alsh[0][1] == datetime.combine(night.days[0], time())  # a real date
    assert alsh[0][3] == "DUPONT Paolo" and alsh[0][5] == time(8, 30)
