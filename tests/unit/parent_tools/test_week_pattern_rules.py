"""Semaine type: reading a pattern (form, storage) and the days it asks for."""

from __future__ import annotations

from datetime import date

import pytest

from portal.domain.week_pattern import rules
from portal.domain.week_pattern.rules import Pattern, PatternError

CANTEEN, ALSH, OTHER = 11, 12, 99


def test_form_keeps_enrolled_activities_and_real_weekdays() -> None:
    fields = ["j-11-0", "j-11-1", "j-11-3", "j-11-4", "j-12-2", "j-99-0", "j-11-7", "nom", "j-x-1"]
    pattern = rules.pattern_from_form(fields, [CANTEEN, ALSH])
    assert pattern.slots == {CANTEEN: frozenset({0, 1, 3, 4}), ALSH: frozenset({2})}


def test_stored_text_round_trips_and_bad_text_is_empty() -> None:
    pattern = Pattern({CANTEEN: frozenset({0, 4}), ALSH: frozenset({2})})
    text = pattern.to_text()
    assert text == "[[11,0],[11,4],[12,2]]"
    assert rules.pattern_from_text(text, [CANTEEN, ALSH]) == pattern
    # An activity the child left is dropped when read back.
    assert rules.pattern_from_text(text, [ALSH]).slots == {ALSH: frozenset({2})}
    for bad in ("", "not json", '{"a": 1}', "[[1]]", '[["11", 0]]', "[[true, 1]]"):
        assert rules.pattern_from_text(bad, [CANTEEN]).is_empty


def test_requested_days_follow_the_weekdays_over_the_period() -> None:
    pattern = Pattern({CANTEEN: frozenset({0, 1, 3, 4}), ALSH: frozenset({2})})
    days = rules.requested_days(pattern, date(2026, 11, 30), date(2026, 12, 9))
    assert days[CANTEEN] == [
        date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 3), date(2026, 12, 4),
        date(2026, 12, 7), date(2026, 12, 8),
    ]  # fmt: skip
    assert days[ALSH] == [date(2026, 12, 2), date(2026, 12, 9)]


def test_an_activity_without_a_day_in_the_period_asks_nothing() -> None:
    pattern = Pattern({ALSH: frozenset({2})})
    assert rules.requested_days(pattern, date(2026, 12, 3), date(2026, 12, 4)) == {}


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2026, 12, 9), date(2026, 12, 1), "avant son début"),
        (date(2026, 1, 1), date(2027, 1, 5), "un an"),
    ],
)
def test_periods_are_bounded(start: date, end: date, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        rules.requested_days(Pattern({ALSH: frozenset({2})}), start, end)


def test_names_are_cleaned_and_bounded() -> None:
    assert rules.check_name("  Année   scolaire ") == "Année scolaire"
    with pytest.raises(PatternError):
        rules.check_name("   ")
    with pytest.raises(PatternError):
        rules.check_name("x" * 81)


def test_summary_names_weekdays_in_french() -> None:
    pattern = Pattern({CANTEEN: frozenset({3, 0}), ALSH: frozenset({2})})
    assert pattern.summary({CANTEEN: "Cantine", ALSH: "ALSH"}) == [
        ("ALSH", "mercredi"),
        ("Cantine", "lundi, jeudi"),
    ]
