from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.money_format import NBSP, NNBSP, format_amount, format_euros


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (422, f"4,22{NBSP}€"),
        (-11804, f"-118,04{NBSP}€"),
        (123450, f"1{NNBSP}234,50{NBSP}€"),
        (0, f"0,00{NBSP}€"),
        (-5, f"-0,05{NBSP}€"),
        (123456789, f"1{NNBSP}234{NNBSP}567,89{NBSP}€"),
    ],
)
def test_french_amounts(cents: int, text: str) -> None:
    assert format_euros(cents) == text


@given(st.integers(-(10**12), 10**12))
def test_amount_reads_back(cents: int) -> None:
    text = format_amount(cents)
    assert int(text.replace(NNBSP, "").replace(",", "")) == cents
    assert text.count(",") == 1


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        format_euros(4.22)  # type: ignore[arg-type]
