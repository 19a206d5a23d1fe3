"""Booking and cancellation deadlines ("délais") and their short storage form.

Three forms are used by town halls:
- ``days:N@HH:MM``      N calendar days before the day, at HH:MM local time;
- ``workdays:N@HH:MM``  N working days before the day (Saturdays, Sundays and French
                        public holidays from ``holidays.France`` are skipped);
- ``prevweek:thu@HH:MM`` the given weekday of the ISO week (Monday to Sunday) before the
                        day's week, at HH:MM: every day of a week shares one deadline.
N = 0 means the day itself at HH:MM.

Deadlines are computed in the structure's local time and returned as aware UTC instants.
A local time that does not exist or exists twice because of a DST change resolves to the
first instant at which the local wall clock shows that time or a later one:
- skipped time (spring, e.g. 02:30 on the last Sunday of March in Europe/Paris): the
  instant the clock jumps (03:00 CEST, 01:00 UTC);
- repeated time (autumn, e.g. 02:30 on the last Sunday of October): its first
  occurrence, still in summer time (02:30 CEST, 00:30 UTC).

A request is in time while ``now < deadline`` (at the deadline instant it is late).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Wall clock to instant is the clock's (day generation and forms use it too).
from portal.clock import local_instant as local_instant
from portal.domain import french_dates
from portal.domain.numbers import parse_count

MAX_DAYS_BEFORE = 366

WEEKDAY_CODES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES_FR: tuple[str, ...] = french_dates.WEEKDAYS

_FORMAT_HELP = (
    "formats acceptés : « days:N@HH:MM » (N jours avant), « workdays:N@HH:MM » "
    "(N jours ouvrés avant) ou « prevweek:jour@HH:MM » (jour de la semaine précédente, "
    "parmi mon, tue, wed, thu, fri, sat, sun)"
)
_RULE_RE = re.compile(r"^(?P<kind>[a-z]+):(?P<arg>[a-z0-9]+)@(?P<hh>\d{2}):(?P<mm>\d{2})$")


class DeadlineKind(StrEnum):
    CALENDAR_DAYS = "days"
    WORKING_DAYS = "workdays"
    PREVIOUS_WEEK = "prevweek"


@dataclass(frozen=True)
class DeadlineRule:
    """When booking (or cancelling) a day stops being possible.

    ``days_before`` is used by the two "N days" kinds, ``weekday`` (0 = Monday) by
    ``PREVIOUS_WEEK``; the unused one must stay at its default.
    """

    kind: DeadlineKind
    at: time
    days_before: int = 0
    weekday: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, DeadlineKind):
            raise ValueError(f"Type de délai inconnu « {self.kind} ».")
        if self.at.tzinfo is not None or self.at.second or self.at.microsecond:
            raise ValueError("L'heure limite doit être une heure locale en heures et minutes.")
        if self.kind is DeadlineKind.PREVIOUS_WEEK:
            if self.weekday is None or not 0 <= self.weekday <= 6:
                raise ValueError("Le jour de la semaine précédente doit être du lundi au dimanche.")
            if self.days_before != 0:
                raise ValueError("Un délai « semaine précédente » ne prend pas de nombre de jours.")
        else:
            if self.weekday is not None:
                raise ValueError("Un délai en jours ne prend pas de jour de la semaine.")
            if not 0 <= self.days_before <= MAX_DAYS_BEFORE:
                raise ValueError(
                    f"Le nombre de jours doit être compris entre 0 et {MAX_DAYS_BEFORE}."
                )

    @classmethod
    def calendar_days(cls, days_before: int, at: time) -> DeadlineRule:
        return cls(DeadlineKind.CALENDAR_DAYS, at, days_before=days_before)

    @classmethod
    def working_days(cls, days_before: int, at: time) -> DeadlineRule:
        return cls(DeadlineKind.WORKING_DAYS, at, days_before=days_before)

    @classmethod
    def previous_week(cls, weekday: int, at: time) -> DeadlineRule:
        return cls(DeadlineKind.PREVIOUS_WEEK, at, weekday=weekday)


# --- storage form -------------------------------------------------------------------


def parse_rule(text: str) -> DeadlineRule:
    """Parse the stored form (``days:2@10:00``); raise ValueError with a French message."""
    cleaned = text.strip().lower()
    match = _RULE_RE.match(cleaned)
    if match is None:
        raise ValueError(f"Délai invalide « {text} » : {_FORMAT_HELP}.")
    hours, minutes = int(match["hh"]), int(match["mm"])
    if hours > 23 or minutes > 59:
        raise ValueError(f"Délai invalide « {text} » : heure hors de 00:00 à 23:59.")
    at = time(hours, minutes)
    kind, arg = match["kind"], match["arg"]
    if kind == DeadlineKind.PREVIOUS_WEEK:
        if arg not in WEEKDAY_CODES:
            raise ValueError(
                f"Délai invalide « {text} » : jour « {arg} » inconnu "
                "(mon, tue, wed, thu, fri, sat ou sun)."
            )
        return DeadlineRule.previous_week(WEEKDAY_CODES.index(arg), at)
    if kind in (DeadlineKind.CALENDAR_DAYS, DeadlineKind.WORKING_DAYS):
        parsed = parse_count(arg) if len(arg) <= 3 else None
        if parsed is None:
            raise ValueError(f"Délai invalide « {text} » : « {arg} » n'est pas un nombre de jours.")
        days = parsed
        if days > MAX_DAYS_BEFORE:
            raise ValueError(f"Délai invalide « {text} » : au plus {MAX_DAYS_BEFORE} jours avant.")
        return DeadlineRule(DeadlineKind(kind), at, days_before=days)
    raise ValueError(f"Délai invalide « {text} » : {_FORMAT_HELP}.")


def format_rule(rule: DeadlineRule) -> str:
    """Return the stored form of ``rule``; ``parse_rule(format_rule(r)) == r``."""
    at = f"{rule.at.hour:02d}:{rule.at.minute:02d}"
    if rule.kind is DeadlineKind.PREVIOUS_WEEK:
        assert rule.weekday is not None
        return f"{rule.kind}:{WEEKDAY_CODES[rule.weekday]}@{at}"
    return f"{rule.kind}:{rule.days_before}@{at}"


def _french_time(at: time) -> str:
    return f"{at.hour}h{at.minute:02d}"


def describe_rule(rule: DeadlineRule) -> str:
    """French wording for parents and staff: ``2 jours avant à 10h00``."""
    at = _french_time(rule.at)
    if rule.kind is DeadlineKind.PREVIOUS_WEEK:
        assert rule.weekday is not None
        return f"le {WEEKDAY_NAMES_FR[rule.weekday]} de la semaine précédente à {at}"
    n = rule.days_before
    if n == 0:
        return f"le jour même à {at}"
    if rule.kind is DeadlineKind.CALENDAR_DAYS:
        if n == 1:
            return f"la veille à {at}"
        return f"{n} jours avant à {at}"
    return f"{n} jour ouvré avant à {at}" if n == 1 else f"{n} jours ouvrés avant à {at}"


# --- computation --------------------------------------------------------------------


@lru_cache(maxsize=256)
def _public_holidays(year: int, subdiv: str | None) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=year, subdiv=subdiv).keys())


def is_working_day(day: date, subdiv: str | None = None) -> bool:
    """Monday to Friday and not a French public holiday (``subdiv``: e.g. "57", "974")."""
    return day.weekday() < 5 and day not in _public_holidays(day.year, subdiv)


def deadline_date(rule: DeadlineRule, day: date, subdiv: str | None = None) -> date:
    """The local date on which the deadline for ``day`` falls."""
    if rule.kind is DeadlineKind.CALENDAR_DAYS:
        return day - timedelta(days=rule.days_before)
    if rule.kind is DeadlineKind.WORKING_DAYS:
        current, remaining = day, rule.days_before
        while remaining:
            current -= timedelta(days=1)
            if is_working_day(current, subdiv):
                remaining -= 1
        return current
    assert rule.weekday is not None
    monday_of_previous_week = day - timedelta(days=day.weekday() + 7)
    return monday_of_previous_week + timedelta(days=rule.weekday)


def deadline_at(rule: DeadlineRule, day: date, tz: ZoneInfo, subdiv: str | None = None) -> datetime:
    """The aware UTC instant at which ``rule`` closes for ``day`` (see module docstring)."""
    return local_instant(deadline_date(rule, day, subdiv), rule.at, tz)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The aware UTC instant at which ``day`` begins in ``tz``."""
    return local_instant(day, time(0, 0), tz)


def _require_aware(now_utc: datetime) -> None:
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be a timezone-aware datetime")


@lru_cache(maxsize=8192)
def closes_at(
    rule: DeadlineRule | None, day: date, tz: ZoneInfo, subdiv: str | None = None
) -> datetime:
    """Deadline of ``rule``, or, without a rule, the start of the day (never book the past).

    Kept (a pure function of its arguments): every board asks it twice per day shown, and
    the same days are shown to every family of a structure."""
    return day_start(day, tz) if rule is None else deadline_at(rule, day, tz, subdiv)


def is_booking_open(
    now_utc: datetime,
    opens_at_utc: datetime | None,
    rule: DeadlineRule | None,
    day: date,
    tz: ZoneInfo,
    subdiv: str | None = None,
) -> bool:
    """True while booking ``day`` is possible: opening instant reached, deadline not."""
    _require_aware(now_utc)
    if opens_at_utc is not None:
        _require_aware(opens_at_utc)
        if now_utc < opens_at_utc:
            return False
    return now_utc < closes_at(rule, day, tz, subdiv)


def is_cancellation_open(
    now_utc: datetime,
    rule: DeadlineRule | None,
    day: date,
    tz: ZoneInfo,
    subdiv: str | None = None,
) -> bool:
    """True while cancelling a booking or a request on ``day`` is possible."""
    _require_aware(now_utc)
    return now_utc < closes_at(rule, day, tz, subdiv)
