"""The ICS text of the calendar feed, read back with the same library."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from icalendar import Calendar

from portal.domain.calendar_feed import rules
from portal.domain.calendar_feed.rules import BookingEvent

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_one_event_per_booking_with_local_times_and_a_timezone() -> None:
    body = rules.build_calendar(
        [
            BookingEvent(7, date(2026, 12, 2), time(8, 30), time(17, 30), "Paolo", "ALSH"),
            BookingEvent(8, date(2026, 12, 3), time(7, 0), time(8, 30), "Amalia", "Matin"),
            BookingEvent(9, date(2026, 12, 4), time(11, 30), time(13, 30), "Paolo", "Cantine",
                         absence=True),
        ],
        tz=PARIS, name="Mairie : réservations", host="famille.example.fr", now=NOW,
    )  # fmt: skip
    calendar = Calendar.from_ical(body)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["uid"]) for e in events] == [
        "reservation-7@famille.example.fr",
        "reservation-8@famille.example.fr",
        "reservation-9@famille.example.fr",
    ]
    first = events[0]
    assert str(first["summary"]) == "ALSH : Paolo"
    assert first.decoded("dtstart") == datetime(2026, 12, 2, 8, 30, tzinfo=PARIS)
    assert first.decoded("dtend") == datetime(2026, 12, 2, 17, 30, tzinfo=PARIS)
    assert first["dtstart"].params["TZID"] == "Europe/Paris"
    assert str(events[2]["summary"]) == "Cantine : Paolo (absence signalée)"
    assert str(events[2]["status"]) == "CANCELLED"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]


def test_tokens_are_long_random_and_only_their_hash_is_kept() -> None:
    first, second = rules.new_token(), rules.new_token()
    assert first != second and rules.looks_like_token(first)
    assert len(rules.token_hash(first)) == 64 and rules.token_hash(first) != first
    for bad in ("", "short", "x" * 100, "a" * 43 + "/", "../../etc/passwd" * 3):
        assert not rules.looks_like_token(bad)
