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
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from portal.domain.exports.tabular import Amount, Cell, Table, neutralise

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
TIME_FORMAT = "HH:MM"
AMOUNT_FORMAT = "#,##0.00"
MAX_COLUMN_WIDTH = 50


def _set(cell: SheetCell, value: Cell) -> None:
    if value is None:
        return
    if isinstance(value, Amount):
        cell.value = Decimal(value.cents) / 100
        cell.number_format = AMOUNT_FORMAT
    elif isinstance(value, bool):
        cell.value = "oui" if value else "non"
    elif isinstance(value, int):
        cell.value = value
    elif isinstance(value, datetime):  # already local: the caller chose the time zone
        cell.value = value.replace(tzinfo=None)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    elif isinstance(value, time):
        cell.value = value
        cell.number_format = TIME_FORMAT
    else:
        cell.value = neutralise(str(value))
        cell.data_type = "s"


def _display_width(value: Cell) -> int:
    if value is None:
        return 0
    if isinstance(value, date | time | Amount):
        return 12
    return len(str(value))


def workbook(table: Table, title: str = "Export") -> Workbook:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    # Sheet titles: 31 characters at most, none of []:*?/\ .
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Export"
    widths = [len(h) for h in table.header]
    bold = Font(bold=True)
    for column, header in enumerate(table.header, start=1):
        cell = sheet.cell(row=1, column=column)
        _set(cell, header)
        cell.font = bold
    for row_index, row in enumerate(table.rows, start=2):
        for column, value in enumerate(row, start=1):
            _set(sheet.cell(row=row_index, column=column), value)
            if column <= len(widths):
                widths[column - 1] = max(widths[column - 1], _display_width(value))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, MAX_COLUMN_WIDTH)
    sheet.freeze_panes = "A2"
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
