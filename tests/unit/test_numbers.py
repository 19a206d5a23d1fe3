"""The one integer parser for request input: strict ASCII digits, bounded to INTEGER."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.numbers import MAX_INT, parse_count, parse_int
from portal.web.forms import int_or_none


@pytest.mark.parametrize(
    "text",
    ["", " ", "²", "١٢", "1_000", "+5", "1.0", "1e3", "0x10", "2147483648", "9" * 5000, "-"],
)
def test_what_is_not_a_bounded_integer_is_none(text: str) -> None:
    assert parse_count(text) is None
    assert parse_int(text) is None
    assert int_or_none(text) is None


def test_counts_and_signed_integers() -> None:
    assert parse_count(" 42 ") == 42 and parse_count("0") == 0
    assert parse_count(str(MAX_INT)) == MAX_INT
    assert parse_count("-1") is None and parse_int("-1") == -1
    assert parse_int(str(-MAX_INT)) == -MAX_INT and parse_int(str(-MAX_INT - 1)) is None
    assert parse_int(7) == 7 and parse_int(2**63) is None and parse_int(True) is None
    for other in (None, ["1"], b"1", 1.0):
        assert parse_count(other) is None and int_or_none(other) is None


@given(st.text(max_size=12))
def test_anything_parsed_fits_the_database(text: str) -> None:
    for value in (parse_count(text), parse_int(text)):
        assert value is None or -MAX_INT <= value <= MAX_INT
    if parse_count(text) is not None:
        assert text.strip().isascii() and text.strip().isdigit()
