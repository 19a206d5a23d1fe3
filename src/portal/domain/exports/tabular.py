"""One writer for every table the portal exports.

An export is a ``Table``: a header and rows of typed cells. Text cells are untrusted (names,
activities typed by people) and are neutralised against spreadsheet formula injection
(OWASP "CSV injection": a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is prefixed with ``'``). Amounts and counts are typed (``Amount``, ``int``) so that
they stay numbers for the spreadsheet and never need neutralising. Other formats (XLSX)
render the same ``Table`` and reuse ``neutralise`` for their text cells.

The CSV dialect is the one French Excel opens as is: UTF-8 with a byte order mark, ";"
between fields, decimal comma, CRLF line ends, fields quoted when needed.
"""

from __future__ import annotations

import csv
import io
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TextIO

BOM = "\ufeff"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Amount:
    """A sum of money in integer cents, written as a number ("-12,50")."""

    cents: int


Cell = str | int | Amount | date | time | None


@dataclass(frozen=True)
class Table:
    """What an export contains, independent of the file format."""

    header: tuple[str, ...]
    rows: Sequence[Sequence[Cell]] = field(default_factory=tuple)


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as is, never evaluates as a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def amount_text(cents: int) -> str:
    """French decimal comma, no thousands separator: "1234,05", "-0,50"."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def cell_text(cell: Cell) -> str:
    """The CSV text of one cell; only free text is neutralised."""
    if cell is None:
        return ""
    if isinstance(cell, Amount):
        return amount_text(cell.cents)
    if isinstance(cell, bool):  # a bool is an int: say it in French rather than "True"
        return "oui" if cell else "non"
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, datetime):  # already local: the caller chose the time zone
        return f"{cell:%d/%m/%Y %H:%M}"
    if isinstance(cell, date):
        return f"{cell:%d/%m/%Y}"
    if isinstance(cell, time):
        return f"{cell:%H:%M}"
    return neutralise(str(cell))


def _rows_text(table: Table) -> Iterable[list[str]]:
    yield [neutralise(h) for h in table.header]
    for row in table.rows:
        yield [cell_text(c) for c in row]


def _write(handle: TextIO, table: Table) -> None:
    writer = csv.writer(handle, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(_rows_text(table))


def csv_text(table: Table) -> str:
    """The whole CSV file as text, byte order mark included (encode it as UTF-8)."""
    buffer = io.StringIO()
    _write(buffer, table)
    return BOM + buffer.getvalue()


def write_csv_file(path: Path, table: Table) -> None:
    """Write the CSV file atomically: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Own temporary name: two writers of the same file may run at once.
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with partial.open("w", encoding="utf-8-sig", newline="") as handle:
            _write(handle, table)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
