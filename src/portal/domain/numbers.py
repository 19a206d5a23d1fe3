"""Integers read from text typed or sent by people: one strict, bounded parser.

``str.isdigit()`` accepts "²" and "١٢" (``int()`` then raises or reads Arabic digits) and
``int()`` accepts "1_000", " 12 " and numbers far beyond the database's integers, which
make the drivers raise. Every id, count, position or year read from a request goes through
``parse_count`` (ASCII digits) or ``parse_int`` (an optional minus sign), both bounded to
the 32-bit INTEGER columns.
"""

from __future__ import annotations

import re

MAX_INT = 2**31 - 1  # PostgreSQL INTEGER / SERIAL
_COUNT = re.compile(r"[0-9]{1,10}")
_SIGNED = re.compile(r"-?[0-9]{1,10}")


def parse_count(text: object) -> int | None:
    """0..MAX_INT from ASCII digits (surrounding spaces allowed), else None."""
    if not isinstance(text, str) or not _COUNT.fullmatch(text := text.strip()):
        return None
    value = int(text)
    return value if value <= MAX_INT else None


def parse_int(text: object) -> int | None:
    """-MAX_INT..MAX_INT from ASCII digits and an optional minus sign, else None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if -MAX_INT <= text <= MAX_INT else None
    if not isinstance(text, str) or not _SIGNED.fullmatch(text := text.strip()):
        return None
    value = int(text)
    return value if -MAX_INT <= value <= MAX_INT else None
