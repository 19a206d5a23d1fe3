"""Pages of long staff lists: numbers, bounds, French totals and links."""

from __future__ import annotations

import pytest

from portal.domain.paging.rules import Paging, count_label, french_number, page_number

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        (None, 1),
        ("", 1),
        ("3", 3),
        ("0", 1),
        ("-2", 1),
        ("abc", 1),
        ("2.5", 1),
        ("9" * 30, 1_000_000),
    ],
)
def test_page_number_is_a_positive_integer_or_the_first_page(raw: object, number: int) -> None:
    assert page_number(raw) == number


def test_french_totals() -> None:
    assert french_number(1234) == f"1{NNBSP}234"
    assert french_number(1234567) == f"1{NNBSP}234{NNBSP}567"
    assert count_label(0, "demande", "demandes") == "0 demande"
    assert count_label(1, "demande", "demandes") == "1 demande"
    assert count_label(1234, "demande", "demandes") == f"1{NNBSP}234 demandes"


def test_paging_bounds_and_links() -> None:
    paging = Paging.of(2, 2_500)
    assert (paging.number, paging.pages, paging.offset, paging.size) == (2, 50, 50, 50)
    assert paging.label == "Page 2 sur 50"
    assert paging.has_previous and paging.has_next
    assert paging.url("/x/decisions", 1) == "/x/decisions"
    assert paging.url("/x/decisions", 3) == "/x/decisions?page=3"
    assert paging.url("/x/familles?q=a", 3) == "/x/familles?q=a&page=3"
    last = Paging.of(999, 2_501)
    assert (last.number, last.pages, last.offset) == (51, 51, 2_500)
    assert last.has_previous and not last.has_next
    empty = Paging.of(4, 0)
    assert (empty.number, empty.pages, empty.offset, empty.label) == (1, 1, 0, "Page 1 sur 1")
    assert not empty.has_previous and not empty.has_next
