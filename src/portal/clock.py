"""The current instant, in one place so that tests can move time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_offset_seconds = 0.0


def utcnow() -> datetime:
    now = datetime.now(UTC)
    if _offset_seconds:
        now += timedelta(seconds=_offset_seconds)
    return now


def local_today(tz_name: str) -> date:
    return utcnow().astimezone(ZoneInfo(tz_name)).date()


def shift(seconds: float) -> None:
    """Move the clock forward (tests only)."""
    global _offset_seconds
    _offset_seconds += seconds


def reset() -> None:
    global _offset_seconds
    _offset_seconds = 0.0
