"""The shared export writer: French Excel's dialect, formulas never evaluated."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.exports.tabular import (
    Amount,
    Table,
    cell_text,
    csv_text,
    neutralise,
    write_csv_file,
)


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


@pytest.mark.parametrize(
    "dangerous",
    ["=1+2", "+33 6 12", "-2+3", "@SUM(A1)", "\t=1", "\r=1", '=HYPERLINK("http://x")'],
)
def test_cells_that_a_spreadsheet_would_evaluate_are_prefixed(dangerous: str) -> None:
    assert neutralise(dangerous) == "'" + dangerous
    rows = _rows(csv_text(Table(("Famille",), [(dangerous,)])))
    assert rows[1] == ["'" + dangerous]


@pytest.mark.parametrize("harmless", ["DUPONT", "", "1=1", "Cantine; repas", "'quoted", "é=1"])
def test_other_text_is_left_as_is(harmless: str) -> None:
    assert neutralise(harmless) == harmless
    assert _rows(csv_text(Table(("A",), [(harmless,)])))[1] == [harmless]


def test_typed_cells_stay_numbers_and_french_formats() -> None:
    table = Table(
        ("Date", "Heure", "Montant", "Qté", "Vide", "Oui", "Instant"),
        [
            (
                date(2026, 12, 9),
                time(7, 30),
                Amount(-1250),
                -3,
                None,
                True,
                datetime(2026, 12, 9, 8, 5),
            ),
            (date(2026, 1, 2), None, Amount(5), 0, "", False, None),
        ],
    )
    text = csv_text(table)
    assert text.endswith("\r\n") and "\r\n" in text
    rows = _rows(text)
    assert rows[0] == ["Date", "Heure", "Montant", "Qté", "Vide", "Oui", "Instant"]
    # Negative amounts and counts are numbers, not neutralised text.
    assert rows[1] == ["09/12/2026", "07:30", "-12,50", "-3", "", "oui", "09/12/2026 08:05"]
    assert rows[2] == ["02/01/2026", "", "0,05", "0", "", "non", ""]
    assert cell_text(Amount(123405)) == "1234,05"


def test_header_is_neutralised_too() -> None:
    assert _rows(csv_text(Table(("=cmd",), [])))[0] == ["'=cmd"]


@given(st.lists(st.text(max_size=30), min_size=1, max_size=6))
def test_any_text_round_trips_and_never_starts_a_formula(cells: list[str]) -> None:
    rows = _rows(csv_text(Table(tuple(f"c{i}" for i in range(len(cells))), [tuple(cells)])))
    # csv normalises lone line ends inside quoted cells only when reading with newline="";
    # StringIO keeps them, so every cell reads back exactly (with its prefix if needed).
    assert rows[1] == [neutralise(c) for c in cells]
    for cell in rows[1]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_file_is_written_atomically_with_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "export.csv"
    write_csv_file(path, Table(("Famille",), [("=1+2",)]))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig") == "Famille\r\n'=1+2\r\n"
    assert [p.name for p in path.parent.iterdir()] == ["export.csv"]  # no partial file left
