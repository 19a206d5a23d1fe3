"""The current instant, in one place so that tests can move time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The time zone of a structure that names none (the product's default, design card §3).
DEFAULT_TIMEZONE = "Europe/Paris"

_offset_seconds = 0.0


def utcnow() -> datetime:
    now = datetime.now(UTC)
    if _offset_seconds:
        now += timedelta(seconds=_offset_seconds)
    return now


def zone(tz_name: str | None) -> ZoneInfo:
    """The structure's time zone, or the default one when it names none."""
    return ZoneInfo(tz_name or DEFAULT_TIMEZONE)


def local_today(tz_name: str | None) -> date:
    return utcnow().astimezone(zone(tz_name)).date()


def as_date(value: object) -> date:
    """A day read back from either engine: SQLite gives ISO text, PostgreSQL a date."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def as_time(value: object) -> time | None:
    """A time of day read back by raw SQL from either engine (a time, or ISO text)."""
    if value is None or isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


def as_utc(value: object) -> datetime | None:
    """An instant read back by raw SQL from either engine (a datetime, or ISO text)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def shift(seconds: float) -> None:
    """Move the clock forward (tests only)."""
    global _offset_seconds
    _offset_seconds += seconds


def reset() -> None:
    global _offset_seconds
    _offset_seconds = 0.0


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """First UTC instant at which the local wall clock in ``tz`` shows ``day at`` or later.

    Plain times map to their only instant; a repeated time (DST end) to its first
    occurrence; a skipped time (DST start) to the instant the clock jumps over it.
    """
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first
    # Skipped: fold=1 reads the wall time with the offset after the jump, giving an instant
    # before the jump; fold=0 gives one after it. Bisect to the jump, to the second.
    low = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high
