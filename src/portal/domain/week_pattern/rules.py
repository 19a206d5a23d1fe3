"""Pure rules of the "semaine type": what a pattern is, which days it asks for over a
period, and how a pattern is read back from the form or from its stored text."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from portal.domain.french_dates import WEEKDAYS

MAX_PERIOD_DAYS = 366  # like "Importer": a school year at most in one go
MAX_NAME = 80
MAX_PATTERNS_PER_CHILD = 10


class PatternError(ValueError):
    """A pattern or a period that cannot be taken as given (the message is French)."""


@dataclass(frozen=True)
class Pattern:
    """Which weekdays (0 = Monday) each activity is wanted on."""

    slots: Mapping[int, frozenset[int]]  # activity id -> weekdays

    @property
    def is_empty(self) -> bool:
        return not any(self.slots.values())

    def to_text(self) -> str:
        """The stored form: sorted [[activity_id, weekday], ...]."""
        pairs = sorted((a, d) for a, days in self.slots.items() for d in days)
        return json.dumps(pairs, separators=(",", ":"))

    def summary(self, names: Mapping[int, str]) -> list[tuple[str, str]]:
        """(activity name, "lundi, mardi, jeudi") per activity, for pages."""
        return [
            (names.get(a, "?"), ", ".join(WEEKDAYS[d] for d in sorted(days)))
            for a, days in sorted(self.slots.items(), key=lambda item: names.get(item[0], ""))
            if days
        ]


def pattern_from_pairs(pairs: Iterable[tuple[int, int]], allowed: Iterable[int]) -> Pattern:
    """A pattern from (activity id, weekday) pairs, keeping only the activities allowed
    (those the child is enrolled in) and real weekdays."""
    allowed_ids = set(allowed)
    slots: dict[int, set[int]] = {}
    for activity_id, weekday in pairs:
        if activity_id in allowed_ids and 0 <= weekday <= 6:
            slots.setdefault(activity_id, set()).add(weekday)
    return Pattern({a: frozenset(days) for a, days in slots.items() if days})


def pattern_from_text(text: str, allowed: Iterable[int]) -> Pattern:
    """Read a stored pattern; anything unreadable gives an empty pattern (never fatal)."""
    try:
        raw = json.loads(text or "[]")
    except ValueError:
        return Pattern({})
    pairs: list[tuple[int, int]] = []
    for item in raw if isinstance(raw, list) else []:
        if (
            isinstance(item, list)
            and len(item) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
        ):
            pairs.append((item[0], item[1]))
    return pattern_from_pairs(pairs, allowed)


def slot_field(activity_id: int, weekday: int) -> str:
    """The form field of one checkbox: "j-<activity>-<weekday>"."""
    return f"j-{activity_id}-{weekday}"


def pattern_from_form(fields: Iterable[str], allowed: Iterable[int]) -> Pattern:
    """The pattern of the ticked checkboxes ("j-<activity>-<weekday>")."""
    pairs = []
    for name in fields:
        prefix, _, rest = name.partition("-")
        activity, _, weekday = rest.partition("-")
        if prefix == "j" and activity.isdigit() and weekday.isdigit() and len(activity) < 10:
            pairs.append((int(activity), int(weekday)))
    return pattern_from_pairs(pairs, allowed)


def check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise PatternError("Donnez un nom à cette semaine type (par exemple « Année scolaire »).")
    if len(cleaned) > MAX_NAME:
        raise PatternError(f"Le nom de la semaine type ne peut pas dépasser {MAX_NAME} caractères.")
    return cleaned


def check_period(start: date, end: date) -> None:
    if end < start:
        raise PatternError("La fin de la période est avant son début.")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise PatternError("La période ne peut pas dépasser un an.")


def requested_days(pattern: Pattern, start: date, end: date) -> dict[int, list[date]]:
    """Per activity, the dates of the period falling on the pattern's weekdays."""
    check_period(start, end)
    result: dict[int, list[date]] = {}
    for activity_id, weekdays in pattern.slots.items():
        days = []
        day = start
        while day <= end:
            if day.weekday() in weekdays:
                days.append(day)
            day += timedelta(days=1)
        if days:
            result[activity_id] = days
    return result
