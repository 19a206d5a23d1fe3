"""Day generation: an activity's open days from a weekly schedule, public holidays and
closures.

Pure: the activities service writes the days this plans.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

from portal.domain import french_dates, numbers
from portal.domain.booking import deadlines
from portal.domain.form_fields import FormError, field_text, parse_date

MAX_GENERATION_DAYS = 400
# The weekday checkboxes of the generation form, Monday first.
WEEKDAY_LABELS = tuple(name.capitalize() for name in french_dates.WEEKDAYS)


@dataclass(frozen=True)
class Closure:
    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def parse_closures(text: str) -> list[Closure]:
    """One closure per line: "24/12/2026" or "21/12/2026 - 03/01/2027" (or "au")."""
    closures: list[Closure] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        cleaned = line.strip()
        if not cleaned:
            continue
        parts = [p for p in re.split(r"\s+(?:-|au|à)\s+|\s*–\s*", cleaned.removeprefix("du "))]
        try:
            if len(parts) == 1:
                day = parse_date(parts[0], "La date de fermeture")
                closures.append(Closure(day, day))
            elif len(parts) == 2:
                first = parse_date(parts[0], "Le début de fermeture")
                last = parse_date(parts[1], "La fin de fermeture")
                if last < first:
                    raise ValueError("la fin est avant le début.")
                closures.append(Closure(first, last))
            else:
                raise ValueError("écrivez une date ou « JJ/MM/AAAA - JJ/MM/AAAA ».")
        except ValueError as exc:
            errors.append(f"Fermetures, ligne {number} : {exc}")
    if errors:
        raise FormError(errors)
    return closures


@dataclass(frozen=True)
class Schedule:
    first: date
    last: date
    weekdays: frozenset[int]
    closures: tuple[Closure, ...] = ()


@dataclass(frozen=True)
class GenerationPlan:
    dates: tuple[date, ...]
    holidays: tuple[date, ...]
    closed: tuple[date, ...]


def parse_schedule_form(data: Mapping[str, object], weekdays: Iterable[str]) -> Schedule:
    errors: list[str] = []
    first = last = date.min
    try:
        first = parse_date(field_text(data, "du", 12), "La date de début")
        last = parse_date(field_text(data, "au", 12), "La date de fin")
        if last < first:
            errors.append("La date de fin est avant la date de début.")
        elif (last - first).days >= MAX_GENERATION_DAYS:
            errors.append(f"Générez au plus {MAX_GENERATION_DAYS} jours à la fois.")
    except ValueError as exc:
        errors.append(str(exc))
    days = (numbers.parse_count(str(w)) for w in weekdays)
    chosen = frozenset(d for d in days if d is not None and d < 7)
    if not chosen:
        errors.append("Cochez au moins un jour de la semaine.")
    closures: list[Closure] = []
    try:
        closures = parse_closures(field_text(data, "fermetures", 4000))
    except FormError as exc:
        errors.extend(exc.errors)
    if errors:
        raise FormError(errors)
    return Schedule(first, last, chosen, tuple(closures))


def plan_days(schedule: Schedule, subdiv: str | None = None) -> GenerationPlan:
    """Dates of the schedule's weekdays in its range, minus public holidays and closures."""
    dates: list[date] = []
    public: list[date] = []
    closed: list[date] = []
    day = schedule.first
    while day <= schedule.last:
        if day.weekday() in schedule.weekdays:
            if any(day in closure for closure in schedule.closures):
                closed.append(day)
            elif is_public_holiday(day, subdiv):
                public.append(day)
            else:
                dates.append(day)
        day += timedelta(days=1)
    return GenerationPlan(tuple(dates), tuple(public), tuple(closed))


@lru_cache(maxsize=64)
def _holidays(year: int, subdiv: str | None) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=year, subdiv=subdiv).keys())


def is_public_holiday(day: date, subdiv: str | None = None) -> bool:
    """French public holiday (any weekday; a weekday holiday is not a working day)."""
    if day.weekday() < 5:
        return not deadlines.is_working_day(day, subdiv)
    return day in _holidays(day.year, subdiv)
