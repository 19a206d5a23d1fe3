from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.domain.booking.hours import (
    TimeEntryRule,
    TimeRange,
    billed_quantity,
    check_time_entry,
    conflicts,
    format_allowed_times,
    is_compatible,
    overlaps,
    parse_allowed_times,
    times_between,
)

minutes_of_day = st.integers(0, 24 * 60 - 1)


def at(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def ranges(draw: st.DrawFn) -> TimeRange:
    start = draw(st.integers(0, 24 * 60 - 2))
    end = draw(st.integers(start + 1, 24 * 60 - 1))
    return TimeRange(at(start), at(end))


def r(start: str, end: str) -> TimeRange:
    return TimeRange(time.fromisoformat(start), time.fromisoformat(end))


def test_touching_ends_do_not_overlap() -> None:
    assert not overlaps(r("07:30", "08:45"), r("08:45", "12:00"))
    assert overlaps(r("07:30", "08:46"), r("08:45", "12:00"))
    assert overlaps(r("11:00", "15:20"), r("12:00", "13:00"))  # containment
    assert conflicts(r("11:00", "13:00"), [r("07:30", "08:45"), r("12:00", "14:00")]) == [
        r("12:00", "14:00")
    ]
    assert is_compatible(r("16:30", "18:00"), [r("07:30", "08:45"), r("11:00", "16:30")])


@given(ranges(), ranges())
def test_overlap_means_sharing_a_minute(a: TimeRange, b: TimeRange) -> None:
    def minutes(x: TimeRange) -> set[int]:
        return set(range(x.start.hour * 60 + x.start.minute, x.end.hour * 60 + x.end.minute))

    assert overlaps(a, b) == overlaps(b, a) == bool(minutes(a) & minutes(b))


def test_empty_or_reversed_range_is_refused_in_french() -> None:
    with pytest.raises(ValueError, match="doit être postérieure"):
        r("08:00", "08:00")


def test_billing_rounds_up_per_started_unit() -> None:
    assert billed_quantity(time(7, 30), time(8, 45), 30) == 3  # seed: APS matin 07:30-08:45
    assert billed_quantity(time(7, 0), time(8, 0), 30) == 2
    assert billed_quantity(time(7, 0), time(7, 1), 30) == 1
    assert billed_quantity(time(8, 0), time(18, 0), 60) == 10


@given(ranges(), st.integers(1, 240))
def test_quantity_covers_the_stay_with_less_than_one_extra_unit(stay: TimeRange, unit: int) -> None:
    quantity = billed_quantity(stay.start, stay.end, unit)
    assert isinstance(quantity, int)
    assert (quantity - 1) * unit < stay.minutes <= quantity * unit


RULE = TimeEntryRule(
    arrivals=(time(7, 0), time(7, 30)),
    departures=times_between(time(16, 30), time(18, 30), 30),
    unit_minutes=30,
)


def test_valid_time_entry_gives_the_quantity() -> None:
    check = check_time_entry(RULE, time(7, 30), time(17, 0))
    assert check.ok
    assert check.quantity == 19


def test_time_entry_errors_are_french_and_all_reported() -> None:
    check = check_time_entry(RULE, time(7, 15), time(19, 0))
    assert not check.ok
    assert check.quantity is None
    assert check.errors == (
        "L'heure d'arrivée 07:15 n'est pas proposée pour cette activité "
        "(horaires possibles : 07:00 ou 07:30).",
        "L'heure de départ 19:00 n'est pas proposée pour cette activité "
        "(horaires possibles : 16:30, 17:00, 17:30, 18:00 ou 18:30).",
    )
    backwards = TimeEntryRule((time(9, 0),), (time(8, 0),), 15)
    assert check_time_entry(backwards, time(9, 0), time(8, 0)).errors == (
        "L'heure de départ doit être postérieure à l'heure d'arrivée.",
    )


def test_allowed_times_storage() -> None:
    assert parse_allowed_times("07:30; 07:00,7h45 07:00") == (time(7, 0), time(7, 30), time(7, 45))
    assert parse_allowed_times("") == ()
    assert format_allowed_times([time(7, 30), time(7, 0)]) == "07:00,07:30"
    with pytest.raises(ValueError, match="Heure invalide « 25:00 »"):
        parse_allowed_times("07:00,25:00")


@given(st.lists(minutes_of_day.map(at), max_size=8))
def test_allowed_times_round_trip(values: list[time]) -> None:
    assert parse_allowed_times(format_allowed_times(values)) == tuple(sorted(set(values)))
