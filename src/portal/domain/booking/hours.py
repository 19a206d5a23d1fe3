"""Time ranges of bookings ("horaires incompatibles") and time-entry billing.

Times are naive local ``datetime.time`` values on the booked day; a range ends after it
starts on the same day (no range crosses midnight). Ranges are half-open: one that ends
at 12:00 and one that starts at 12:00 do not overlap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def format_hhmm(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


@dataclass(frozen=True)
class TimeRange:
    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(
                f"L'heure de fin ({format_hhmm(self.end)}) doit être postérieure à "
                f"l'heure de début ({format_hhmm(self.start)})."
            )

    @property
    def minutes(self) -> int:
        return _minutes(self.end) - _minutes(self.start)


def overlaps(a: TimeRange, b: TimeRange) -> bool:
    """True when the two ranges share some time; touching ends do not overlap."""
    return a.start < b.end and b.start < a.end


def conflicts(candidate: TimeRange, existing: Iterable[TimeRange]) -> list[TimeRange]:
    """The existing ranges (same person, same date) that ``candidate`` is incompatible with."""
    return [other for other in existing if overlaps(candidate, other)]


def is_compatible(candidate: TimeRange, existing: Iterable[TimeRange]) -> bool:
    return not conflicts(candidate, existing)


# --- time entry ---------------------------------------------------------------------------

_TIME_RE = re.compile(r"^(\d{1,2})[:hH](\d{2})$")


def parse_allowed_times(text: str) -> tuple[time, ...]:
    """Parse a stored list of times ("07:00,07:30" or "07:00; 07:30"), sorted, unique."""
    result: set[time] = set()
    for raw in re.split(r"[,;\s]+", text.strip()):
        if not raw:
            continue
        match = _TIME_RE.match(raw)
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(f"Heure invalide « {raw} » : format attendu HH:MM.")
        result.add(time(int(match[1]), int(match[2])))
    return tuple(sorted(result))


def format_allowed_times(times: Iterable[time]) -> str:
    """Stored form of a list of times: ``07:00,07:30``."""
    return ",".join(format_hhmm(at) for at in sorted(set(times)))


def times_between(first: time, last: time, step_minutes: int) -> tuple[time, ...]:
    """Every ``step_minutes`` from ``first`` to ``last`` included (to build allowed times)."""
    if step_minutes <= 0:
        raise ValueError("step_minutes must be > 0")
    start, stop = _minutes(first), _minutes(last)
    return tuple(time(m // 60, m % 60) for m in range(start, stop + 1, step_minutes))


def _french_list(times: Iterable[time]) -> str:
    labels = [format_hhmm(at) for at in times]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " ou " + labels[-1]


@dataclass(frozen=True)
class TimeEntryRule:
    """Arrival and departure chosen among allowed times, billed per started unit."""

    arrivals: tuple[time, ...]
    departures: tuple[time, ...]
    unit_minutes: int

    def __post_init__(self) -> None:
        if self.unit_minutes <= 0:
            raise ValueError("unit_minutes must be > 0")
        if not self.arrivals or not self.departures:
            raise ValueError("a time-entry activity needs allowed arrival and departure times")


def billed_quantity(arrival: time, departure: time, unit_minutes: int) -> int:
    """Number of started units of ``unit_minutes`` between arrival and departure (>= 1)."""
    if unit_minutes <= 0:
        raise ValueError("unit_minutes must be > 0")
    return math.ceil(TimeRange(arrival, departure).minutes / unit_minutes)


@dataclass(frozen=True)
class TimeEntryCheck:
    errors: tuple[str, ...]  # French messages, empty when valid
    quantity: int | None  # billed quantity when valid

    @property
    def ok(self) -> bool:
        return not self.errors


def check_time_entry(rule: TimeEntryRule, arrival: time, departure: time) -> TimeEntryCheck:
    """Validate a chosen arrival/departure pair and compute its billed quantity."""
    errors: list[str] = []
    if arrival not in rule.arrivals:
        errors.append(
            f"L'heure d'arrivée {format_hhmm(arrival)} n'est pas proposée pour cette activité "
            f"(horaires possibles : {_french_list(rule.arrivals)})."
        )
    if departure not in rule.departures:
        errors.append(
            f"L'heure de départ {format_hhmm(departure)} n'est pas proposée pour cette activité "
            f"(horaires possibles : {_french_list(rule.departures)})."
        )
    if departure <= arrival:
        errors.append("L'heure de départ doit être postérieure à l'heure d'arrivée.")
    if errors:
        return TimeEntryCheck(tuple(errors), None)
    return TimeEntryCheck((), billed_quantity(arrival, departure, rule.unit_minutes))
