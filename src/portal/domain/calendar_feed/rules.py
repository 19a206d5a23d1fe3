"""Pure rules of the calendar feed: tokens (only their SHA-256 is stored) and the ICS
text, built with the maintained ``icalendar`` library rather than by hand (folding,
escaping, time zones are its job)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

TOKEN_BYTES = 32  # 256 bits: not guessable, and the URL still fits a phone's share sheet
PRODID = "-//Portail Famille//Agenda des réservations//FR"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def looks_like_token(token: str) -> bool:
    """A cheap shape check before any query (URL-safe base64 of 32 bytes)."""
    return 40 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


@dataclass(frozen=True)
class BookingEvent:
    reservation_id: int
    day: date
    start: time
    end: time
    person: str
    activity: str
    absence: bool = False  # an absence was declared on it ("enfant malade")
    updated_at: datetime | None = None


def build_calendar(
    events: Iterable[BookingEvent], *, tz: ZoneInfo, name: str, host: str, now: datetime
) -> bytes:
    """The ICS text of the family's bookings, times in the structure's time zone."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", str(tz))
    # Calendar apps poll a feed at their own pace; this asks for about once an hour.
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for e in events:
        event = Event()
        event.add("uid", f"reservation-{e.reservation_id}@{host}")
        summary = f"{e.activity} : {e.person}"
        event.add("summary", f"{summary} (absence signalée)" if e.absence else summary)
        event.add("dtstart", datetime.combine(e.day, e.start, tzinfo=tz))
        event.add("dtend", datetime.combine(e.day, e.end, tzinfo=tz))
        event.add("dtstamp", now)
        if e.updated_at is not None:
            event.add("last-modified", e.updated_at)
        event.add("status", "CANCELLED" if e.absence else "CONFIRMED")
        event.add("transp", "TRANSPARENT")  # a child's activity: the parent is not busy
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
