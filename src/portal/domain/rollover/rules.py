"""The year rollover's rules: the next school year, the weekly pattern of an activity, and
the French school holidays of the structure's zone as closures.

An activity that ran during the school holidays of the year ending (a leisure centre) keeps
running in them; one that did not (canteen, before and after school care) skips them.
Public holidays are skipped by plan_days in any case.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from portal.domain.staff.schedule import Closure

ZONES = ("A", "B", "C")


def next_school_year(today: date) -> tuple[date, date]:
    """From 1 September after the current school year to the next 31 August."""
    year = today.year + 1 if today.month >= 9 else today.year
    return date(year, 9, 1), date(year + 1, 8, 31)


def previous_year(first: date) -> tuple[date, date]:
    """The school year that ends the day before ``first``."""
    return date(first.year - 1, first.month, first.day), first - timedelta(days=1)


def weekdays_of(days: Iterable[date]) -> frozenset[int]:
    return frozenset(d.weekday() for d in days)


def ran_in_holidays(days: Iterable[date], holidays: set[date]) -> bool:
    return any(d in holidays for d in days)


def closures(holidays: Iterable[date]) -> tuple[Closure, ...]:
    """Consecutive holiday dates as ranges (one closure per holiday period)."""
    ranges: list[Closure] = []
    for day in sorted(set(holidays)):
        if ranges and ranges[-1].last + timedelta(days=1) == day:
            ranges[-1] = Closure(ranges[-1].first, day)
        else:
            ranges.append(Closure(day, day))
    return tuple(ranges)
