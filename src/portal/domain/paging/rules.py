"""Pages of a long list: which rows a page shows, and how its total is said in French."""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain.numbers import parse_count

PAGE_SIZE = 50
# Beyond this a page number is nonsense typed in the address bar (and would overflow).
_MAX_PAGE = 1_000_000


def page_number(raw: object) -> int:
    """`?page=` as asked: a positive integer, anything else is the first page."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit()):
        return 1
    number = parse_count(text)  # None beyond the integers: the last page we serve
    return _MAX_PAGE if number is None else min(max(number, 1), _MAX_PAGE)


def french_number(n: int) -> str:
    """ "1 234" (thousands grouped by a narrow no-break space, as French typography)."""
    return f"{n:,}".replace(",", "\u202f")


def count_label(n: int, singular: str, plural: str) -> str:
    """ "0 demande", "1 demande", "1 234 demandes" (French: 0 and 1 take the singular)."""
    return f"{french_number(n)} {singular if n < 2 else plural}"


@dataclass(frozen=True)
class Paging:
    """Page `number` (from 1) of `total` rows, `size` per page; a number past the end is
    the last page."""

    number: int
    total: int
    size: int = PAGE_SIZE

    @classmethod
    def of(cls, asked: int, total: int, size: int = PAGE_SIZE) -> Paging:
        last = max(1, -(-total // size))
        return cls(min(max(asked, 1), last), total, size)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def label(self) -> str:
        """ "Page 2 sur 50"."""
        return f"Page {french_number(self.number)} sur {french_number(self.pages)}"

    def count(self, singular: str, plural: str) -> str:
        return count_label(self.total, singular, plural)

    def url(self, base: str, number: int) -> str:
        """`base` (the list's URL with its filters) at page `number`."""
        if number <= 1:
            return base
        return f"{base}{'&' if '?' in base else '?'}page={number}"
