"""The XLSX rendering of an export ``Table`` (see tabular.py), with openpyxl.

Cells keep their types: dates are dates (shown 31/12/2026), times are times, amounts are
numbers with two decimals (``Amount`` cents become an exact ``Decimal`` of euros), counts
are integers. The header row is bold and frozen, so it stays on screen while scrolling.

Free text is written as a string cell (openpyxl would otherwise take a text starting
with "=" for a formula) and is also neutralised like in the CSV, so that the two files of
one export read the same and a copy-paste into another sheet stays inert.
"""

from __future__ import annotations

import io
import os
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import anyio
import anyio.to_thread
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from portal.domain.exports.tabular import Amount, Cell, Table, neutralise

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
TIME_FORMAT = "HH:MM"
AMOUNT_FORMAT = "#,##0.00"
MAX_COLUMN_WIDTH = 50


def _cell(sheet: WriteOnlyWorksheet, value: Cell) -> object:
    """The value as written: plain for integers and text, a formatted cell otherwise."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, Amount):
        return _formatted(sheet, Decimal(value.cents) / 100, AMOUNT_FORMAT)
    if isinstance(value, datetime):  # already local: the caller chose the time zone
        return _formatted(sheet, value.replace(tzinfo=None), DATETIME_FORMAT)
    if isinstance(value, date):
        return _formatted(sheet, value, DATE_FORMAT)
    if isinstance(value, time):
        return _formatted(sheet, value, TIME_FORMAT)
    # Neutralised text never starts with "=", the only start openpyxl reads as a formula.
    return neutralise(str(value))


def _formatted(sheet: WriteOnlyWorksheet, value: object, number_format: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell


def _display_width(value: Cell) -> int:
    if value is None:
        return 0
    if isinstance(value, date | time | Amount):
        return 12
    return len(str(value))


def workbook(table: Table, title: str = "Export") -> Workbook:
    """A write-only workbook: rows are streamed to the file as they are appended, so a
    night's export of 100,000 rows does not hold 800,000 cell objects (about 250 MB)."""
    book = Workbook(write_only=True)
    # Sheet titles: 31 characters at most, none of []:*?/\ .
    sheet = book.create_sheet("".join(c for c in title if c not in "[]:*?/\\")[:31] or "Export")
    widths = [len(h) for h in table.header]
    for row in table.rows:
        for column, value in enumerate(row[: len(widths)]):
            widths[column] = max(widths[column], _display_width(value))
    # Widths and frozen header go before the first row: a write-only sheet writes them then.
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, MAX_COLUMN_WIDTH)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in table.header:
        cell = WriteOnlyCell(sheet, value=neutralise(text))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        sheet.append([_cell(sheet, value) for value in row])
    return book


def xlsx_bytes(table: Table, title: str = "Export") -> bytes:
    """The whole XLSX file (CPU work: call it in a worker thread for big tables)."""
    buffer = io.BytesIO()
    workbook(table, title).save(buffer)
    return buffer.getvalue()


_limiter: anyio.CapacityLimiter | None = None


async def xlsx_in_thread(table: Table, title: str = "Export") -> bytes:
    """``xlsx_bytes`` in a worker thread (at most two at a time), off the event loop."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(2)
    return await anyio.to_thread.run_sync(xlsx_bytes, table, title, limiter=_limiter)


def write_xlsx_file(path: Path, table: Table, title: str = "Export") -> None:
    """Write the XLSX file atomically: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        partial.write_bytes(xlsx_bytes(table, title))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
