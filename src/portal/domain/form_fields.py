"""Form fields read into typed values, with French errors for the agent.

The back-office forms (activities, days, news, payments) share these readers; a form
collects every problem in a ``FormError`` so that the page shows them all at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from portal.clock import local_instant
from portal.domain import numbers

MAX_CAPACITY = 10_000


class FormError(ValueError):
    """Input that cannot be used; ``errors`` are French sentences for the agent."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(" ".join(errors))
        self.errors = errors


def field_text(data: Mapping[str, object], name: str, limit: int = 200) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "").strip()[:limit]


def field_flag(data: Mapping[str, object], name: str) -> bool:
    return field_text(data, name, 10).lower() in ("1", "on", "oui", "true", "yes")


_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_date(raw: str, label: str = "La date") -> date:
    """ "2026-12-02" (date inputs) or "02/12/2026"; French error otherwise."""
    text = raw.strip()
    try:
        if match := _FR_DATE.match(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text)
    except ValueError:
        pass
    if not text:
        raise ValueError(f"{label} est obligatoire.")
    raise ValueError(f"{label} « {text} » n'est pas une date valide (JJ/MM/AAAA).")


def parse_time(raw: str, label: str) -> time:
    text = raw.strip()
    match = re.match(r"^(\d{1,2})[:hH](\d{2})$", text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{label} « {text} » n'est pas une heure valide (HH:MM).")
    return time(int(match[1]), int(match[2]))


def parse_local_datetime(raw: str, tz: ZoneInfo, label: str) -> datetime | None:
    """A ``datetime-local`` input (structure time) as an aware UTC instant; blank = None."""
    text = raw.strip()
    if not text:
        return None
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        try:
            local = datetime.combine(parse_date(text, label), time(0, 0))
        except ValueError:
            raise ValueError(
                f"{label} « {text} » n'est pas une date et heure valides (JJ/MM/AAAA HH:MM)."
            ) from None
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local_instant(local.date(), local.time().replace(second=0), tz)


def local_input(value: datetime | None, tz: ZoneInfo) -> str:
    """The value of a ``datetime-local`` input for an instant."""
    return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if value else ""


def parse_count(raw: str, label: str, *, blank_is_none: bool = True) -> int | None:
    """A capacity: blank = unlimited (None), else an integer from 0."""
    text = raw.strip()
    if not text:
        if blank_is_none:
            return None
        raise ValueError(f"{label} est obligatoire.")
    value = numbers.parse_count(text)
    if value is None:
        raise ValueError(f"{label} « {text} » doit être un nombre entier positif ou nul.")
    if value > MAX_CAPACITY:
        raise ValueError(f"{label} : au plus {MAX_CAPACITY}.")
    return value
