from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.booking.deadlines import (
    DeadlineKind,
    DeadlineRule,
    day_start,
    deadline_at,
    deadline_date,
    describe_rule,
    format_rule,
    is_booking_open,
    is_cancellation_open,
    is_working_day,
    local_instant,
    parse_rule,
)
from tests.unit.booking.strategies import times

PARIS = ZoneInfo("Europe/Paris")
ZONES = [
    ZoneInfo(name)
    for name in (
        "Europe/Paris",
        "Europe/London",
        "America/New_York",
        "Australia/Sydney",
        "America/Sao_Paulo",  # DST used to start at midnight: the day itself had no 00:00
        "Pacific/Chatham",  # 45-minute offsets
        "Indian/Reunion",
    )
]

rules = st.one_of(
    st.builds(DeadlineRule.calendar_days, st.integers(0, 30), times),
    st.builds(DeadlineRule.working_days, st.integers(0, 15), times),
    st.builds(DeadlineRule.previous_week, st.integers(0, 6), times),
)
rules_at_least_one_day = rules.filter(
    lambda r: r.kind is DeadlineKind.PREVIOUS_WEEK or r.days_before >= 1
)


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


@st.composite
def days_around_dst(draw: st.DrawFn) -> date:
    """Days within two weeks of the last Sunday of March or of October."""
    sunday = _last_sunday(draw(st.integers(2015, 2030)), draw(st.sampled_from([3, 10])))
    return sunday + timedelta(days=draw(st.integers(-14, 14)))


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- storage form and wording ---------------------------------------------------------


@given(rules)
def test_format_then_parse_returns_the_rule(rule: DeadlineRule) -> None:
    assert parse_rule(format_rule(rule)) == rule


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("days:2@10:00", DeadlineRule.calendar_days(2, time(10, 0))),
        ("workdays:3@18:00", DeadlineRule.working_days(3, time(18, 0))),
        ("prevweek:thu@10:00", DeadlineRule.previous_week(3, time(10, 0))),
        ("  PrevWeek:MON@07:45 ", DeadlineRule.previous_week(0, time(7, 45))),
        ("days:0@09:30", DeadlineRule.calendar_days(0, time(9, 30))),
    ],
)
def test_parse_known_forms(text: str, rule: DeadlineRule) -> None:
    assert parse_rule(text) == rule


@pytest.mark.parametrize(
    "text",
    [
        "",
        "days:2",
        "days:2@10h00",
        "days:-1@10:00",
        "days:x@10:00",
        "days:2@24:00",
        "days:2@10:60",
        "days:2@9:00",
        "days:400@10:00",
        "workdays:1000@10:00",
        "prevweek:jeu@10:00",
        "prevweek:3@10:00",
        "weeks:1@10:00",
        "days:2@10:00:00",
    ],
)
def test_parse_rejects_bad_input_in_french(text: str) -> None:
    with pytest.raises(ValueError, match=r"^Délai invalide « "):
        parse_rule(text)


def test_constructor_rejects_inconsistent_rules_in_french() -> None:
    with pytest.raises(ValueError, match="jour de la semaine"):
        DeadlineRule(DeadlineKind.CALENDAR_DAYS, time(10, 0), days_before=1, weekday=2)
    with pytest.raises(ValueError, match="lundi au dimanche"):
        DeadlineRule(DeadlineKind.PREVIOUS_WEEK, time(10, 0), weekday=7)
    with pytest.raises(ValueError, match="nombre de jours"):
        DeadlineRule.calendar_days(-1, time(10, 0))


@pytest.mark.parametrize(
    ("text", "wording"),
    [
        ("days:2@10:00", "2 jours avant à 10h00"),
        ("days:1@18:30", "la veille à 18h30"),
        ("days:0@09:05", "le jour même à 9h05"),
        ("workdays:3@18:00", "3 jours ouvrés avant à 18h00"),
        ("workdays:1@12:00", "1 jour ouvré avant à 12h00"),
        ("prevweek:thu@10:00", "le jeudi de la semaine précédente à 10h00"),
        ("prevweek:sun@23:59", "le dimanche de la semaine précédente à 23h59"),
    ],
)
def test_french_description(text: str, wording: str) -> None:
    assert describe_rule(parse_rule(text)) == wording


# --- dates ---------------------------------------------------------------------------


def test_calendar_days_in_winter_and_summer() -> None:
    rule = parse_rule("days:2@10:00")
    assert deadline_at(rule, date(2025, 3, 12), PARIS) == utc(2025, 3, 10, 9, 0)  # CET
    assert deadline_at(rule, date(2025, 6, 12), PARIS) == utc(2025, 6, 10, 8, 0)  # CEST


@pytest.mark.parametrize("day", [date(2025, 3, 10), date(2025, 3, 12), date(2025, 3, 16)])
def test_previous_week_gives_one_deadline_for_the_whole_week(day: date) -> None:
    rule = parse_rule("prevweek:thu@10:00")
    assert deadline_at(rule, day, PARIS) == utc(2025, 3, 6, 9, 0)


@pytest.mark.parametrize(
    ("text", "day", "expected", "subdiv"),
    [
        # Monday 14 July 2025 is the national day: Tuesday's previous working day is Friday.
        ("workdays:1@18:00", date(2025, 7, 15), date(2025, 7, 11), None),
        # Easter Monday 21 April 2025.
        ("workdays:1@18:00", date(2025, 4, 22), date(2025, 4, 18), None),
        # Alsace-Moselle also has Good Friday (18 April 2025) off.
        ("workdays:1@18:00", date(2025, 4, 22), date(2025, 4, 17), "57"),
        # Thursday 8 May 2025 (Victoire 1945) is skipped.
        ("workdays:2@18:00", date(2025, 5, 9), date(2025, 5, 6), None),
        # 1 January is skipped across the year boundary.
        ("workdays:1@18:00", date(2025, 1, 2), date(2024, 12, 31), None),
        # Monday with N = 3: Wednesday, Thursday, Friday of the week before.
        ("workdays:3@18:00", date(2025, 3, 10), date(2025, 3, 5), None),
        ("workdays:0@08:00", date(2025, 7, 14), date(2025, 7, 14), None),
    ],
)
def test_working_days_skip_weekends_and_public_holidays(
    text: str, day: date, expected: date, subdiv: str | None
) -> None:
    assert deadline_date(parse_rule(text), day, subdiv) == expected


def test_working_day_calendar() -> None:
    assert not is_working_day(date(2025, 7, 14))
    assert not is_working_day(date(2025, 4, 21))
    assert not is_working_day(date(2025, 3, 8))  # Saturday
    assert is_working_day(date(2025, 4, 18))
    assert not is_working_day(date(2025, 4, 18), "57")
    assert is_working_day(date(2025, 7, 15))


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(1, 12))
@settings(max_examples=150)
def test_working_days_count_exactly_n(day: date, n: int) -> None:
    found = deadline_date(DeadlineRule.working_days(n, time(18, 0)), day)
    assert is_working_day(found)
    span = [found + timedelta(days=i) for i in range((day - found).days)]
    assert sum(is_working_day(d) for d in span) == n


# --- instants and DST ------------------------------------------------------------------


def test_skipped_local_time_resolves_to_the_jump() -> None:
    # 30 March 2025: Paris clocks jump from 02:00 CET to 03:00 CEST; 02:30 never shows.
    result = deadline_at(parse_rule("days:1@02:30"), date(2025, 3, 31), PARIS)
    assert result == utc(2025, 3, 30, 1, 0)
    assert result.astimezone(PARIS).replace(tzinfo=None) == datetime(2025, 3, 30, 3, 0)


def test_repeated_local_time_resolves_to_its_first_occurrence() -> None:
    # 26 October 2025: 02:30 shows twice; the first is still summer time (UTC+2).
    result = deadline_at(parse_rule("days:1@02:30"), date(2025, 10, 27), PARIS)
    assert result == utc(2025, 10, 26, 0, 30)


def test_results_are_aware_utc() -> None:
    result = deadline_at(parse_rule("days:1@10:00"), date(2025, 3, 31), PARIS)
    assert result.tzinfo is UTC


@given(days_around_dst(), times, st.sampled_from(ZONES))
@settings(max_examples=300)
def test_local_instant_is_the_first_instant_showing_that_time(
    day: date, at: time, tz: ZoneInfo
) -> None:
    wall = datetime.combine(day, at)
    result = local_instant(day, at, tz)
    assert result.tzinfo is UTC
    assert result.astimezone(tz).replace(tzinfo=None) >= wall
    assert (result - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None) < wall
    # First: no instant of the three hours before shows that time (autumn repeats it).
    for minutes in range(1, 181):
        earlier = result - timedelta(minutes=minutes)
        assert earlier.astimezone(tz).replace(tzinfo=None) < wall
    # A skipped time resolves to the jump, at most the size of the jump later.
    assert result.astimezone(tz).replace(tzinfo=None) - wall <= timedelta(hours=1)


@given(rules_at_least_one_day, days_around_dst(), st.sampled_from(ZONES))
@settings(max_examples=300)
def test_deadline_is_before_the_day_starts(rule: DeadlineRule, day: date, tz: ZoneInfo) -> None:
    deadline = deadline_at(rule, day, tz)
    assert deadline < day_start(day, tz)
    assert deadline.astimezone(tz).date() < day


@given(rules, days_around_dst())
@settings(max_examples=200)
def test_a_later_local_time_never_gives_an_earlier_deadline(rule: DeadlineRule, day: date) -> None:
    later = DeadlineRule(rule.kind, time(23, 59), rule.days_before, rule.weekday)
    assert deadline_at(rule, day, PARIS) <= deadline_at(later, day, PARIS)


# --- open or not ----------------------------------------------------------------------


def test_booking_window() -> None:
    rule = parse_rule("days:2@10:00")
    day = date(2025, 3, 12)  # deadline 2025-03-10 09:00 UTC
    opens = utc(2025, 2, 1, 8, 0)
    assert not is_booking_open(utc(2025, 2, 1, 7, 59), opens, rule, day, PARIS)
    assert is_booking_open(utc(2025, 2, 1, 8, 0), opens, rule, day, PARIS)
    assert is_booking_open(utc(2025, 3, 10, 8, 59, 59), opens, rule, day, PARIS)
    assert not is_booking_open(utc(2025, 3, 10, 9, 0), opens, rule, day, PARIS)
    assert is_booking_open(utc(2025, 3, 10, 8, 0), None, rule, day, PARIS)


def test_without_rule_booking_closes_when_the_day_starts() -> None:
    day = date(2025, 7, 1)  # starts 2025-06-30 22:00 UTC
    assert is_booking_open(utc(2025, 6, 30, 21, 59), None, None, day, PARIS)
    assert not is_booking_open(utc(2025, 6, 30, 22, 0), None, None, day, PARIS)
    assert is_cancellation_open(utc(2025, 6, 30, 21, 59), None, day, PARIS)
    assert not is_cancellation_open(utc(2025, 6, 30, 22, 0), None, day, PARIS)


def test_cancellation_window_ignores_the_opening() -> None:
    rule = parse_rule("workdays:1@18:00")
    day = date(2025, 7, 15)  # deadline Friday 11 July 18:00 CEST = 16:00 UTC
    assert is_cancellation_open(utc(2025, 7, 11, 15, 59), rule, day, PARIS)
    assert not is_cancellation_open(utc(2025, 7, 11, 16, 0), rule, day, PARIS)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_booking_open(datetime(2025, 1, 1), None, None, date(2025, 1, 2), PARIS)
