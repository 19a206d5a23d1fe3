"""The XLSX writer, read back with openpyxl: typed cells, frozen bold header, inert text."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from portal.domain.exports.tabular import Amount, Table
from portal.domain.exports.xlsx import write_xlsx_file, xlsx_bytes


def _table() -> Table:
    return Table(
        ("Date", "Nom", "Arrivée", "Qté", "Montant (€)", "Saisi le"),
        [
            (date(2026, 11, 3), "DUPONT", time(7, 30), 2, Amount(844), datetime(2026, 11, 3, 9, 5)),
            (date(2026, 11, 4), "=1+2", None, None, Amount(-50), None),
            ("TOTAL", None, None, None, Amount(794), None),
        ],
    )


def test_cells_keep_their_types_and_the_header_is_frozen() -> None:
    book = load_workbook(io.BytesIO(xlsx_bytes(_table(), "Consommations")))
    sheet = book.active
    assert sheet is not None and sheet.title == "Consommations"
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == [
        "Date",
        "Nom",
        "Arrivée",
        "Qté",
        "Montant (€)",
        "Saisi le",
    ]
    assert sheet["A1"].font.bold
    day = sheet["A2"]
    assert day.value == datetime(2026, 11, 3) and day.is_date and day.number_format == "DD/MM/YYYY"
    assert sheet["C2"].value == time(7, 30) and sheet["C2"].number_format == "HH:MM"
    assert sheet["D2"].value == 2 and sheet["D2"].data_type == "n"
    amount = sheet["E2"]
    assert amount.data_type == "n" and amount.number_format == "#,##0.00"
    assert Decimal(str(amount.value)) == Decimal("8.44")
    assert Decimal(str(sheet["E3"].value)) == Decimal("-0.50")
    assert sheet["F2"].value == datetime(2026, 11, 3, 9, 5)
    # Text typed by people is never a formula.
    assert sheet["B3"].data_type == "s" and sheet["B3"].value == "'=1+2"
    assert sheet["A4"].value == "TOTAL" and Decimal(str(sheet["E4"].value)) == Decimal("7.94")


def test_file_is_written_atomically(tmp_path: Path) -> None:
    path = tmp_path / "exports" / "transmission.xlsx"
    write_xlsx_file(path, _table(), "Transmission")
    assert [p.name for p in path.parent.iterdir()] == ["transmission.xlsx"]
    book = load_workbook(path)
    assert book.active is not None and book.active.max_row == 4
