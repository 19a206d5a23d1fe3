"""French display of amounts held in integer cents.

Typography (the same output as CLDR/Babel for the ``fr`` locale):
- thousands are grouped with U+202F NARROW NO-BREAK SPACE: ``1 234,50 €``;
- the euro sign follows the amount after U+00A0 NO-BREAK SPACE, so that a narrow table
  cell on a phone never wraps the sign onto its own line;
- negative amounts start with an ASCII hyphen-minus: ``-118,04 €``.
Tests and templates that compare text must use these characters (see ``NNBSP``/``NBSP``).
Other French messages of the domain use plain spaces (« » and ":" included).
"""

from __future__ import annotations

NNBSP = "\u202f"  # narrow no-break space: thousands separator
NBSP = "\u00a0"  # no-break space: before "€"


def format_amount(cents: int) -> str:
    """Return ``cents`` as a French decimal number without currency: ``-1 234,50``."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"amounts are integer cents, got {cents!r}")
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", NNBSP)
    return f"{sign}{grouped},{rest:02d}"


def format_euros(cents: int) -> str:
    """Return ``cents`` as a French amount in euros: ``4,22 €``, ``-118,04 €``, ``1 234,50 €``."""
    return f"{format_amount(cents)}{NBSP}€"
