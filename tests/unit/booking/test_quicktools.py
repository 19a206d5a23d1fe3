from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.booking.quicktools import (
    DraftChange,
    ToolAction,
    apply_changes,
    month_days,
    toggle,
    week_of,
    weekdays_of_month,
)
from portal.domain.booking.states import (
    DayFacts,
    DayState,
    DraftAction,
    ReservationStatus,
    TapAction,
)
from tests.unit.booking.strategies import drafts_of, month_facts, views_of

YEAR, MONTH = 2025, 9


def selections() -> st.SearchStrategy[list[date]]:
    return st.one_of(
        st.builds(week_of, st.sampled_from(month_days(YEAR, MONTH))),
        st.builds(weekdays_of_month, st.just(YEAR), st.just(MONTH), st.integers(0, 6)),
        st.just(month_days(YEAR, MONTH)),
        st.lists(st.sampled_from(month_days(YEAR, MONTH)), max_size=10),
    )


def run(
    facts: dict[date, DayFacts], drafts: dict[date, DraftAction], days: list[date]
) -> dict[date, DraftAction]:
    return apply_changes(drafts, toggle(days, views_of(facts, drafts)).changes)


def test_selections() -> None:
    assert week_of(date(2025, 9, 17)) == [date(2025, 9, d) for d in range(15, 22)]
    assert weekdays_of_month(2025, 9, 0) == [date(2025, 9, d) for d in (1, 8, 15, 22, 29)]
    assert len(month_days(2024, 2)) == 29
    assert week_of(date(2025, 10, 1))[0] == date(2025, 9, 29)


def available(day: date, **extra: object) -> DayFacts:
    return DayFacts(day, True, True, True, capacity=10, **extra)  # type: ignore[arg-type]


def test_book_all_then_cancel_all_on_a_week() -> None:
    week = week_of(date(2025, 9, 15))
    facts = {
        week[0]: DayFacts(week[0], False, False, False),  # closed Monday
        week[1]: available(week[1]),
        week[2]: DayFacts(week[2], True, True, True, capacity=1, accepted_count=1),  # full
        week[3]: available(week[3], own_status="accepted"),
        week[4]: available(week[4]),
    }
    booked = run(facts, {}, week)
    assert booked == {week[1]: DraftAction.BOOK, week[4]: DraftAction.BOOK}
    assert toggle(week, views_of(facts, booked)).action is ToolAction.CANCEL
    cancelled = run(facts, booked, week)
    assert cancelled == {week[3]: DraftAction.CANCEL}
    # First reservable day booked: the whole set is cancelled at once.
    assert toggle(week, views_of(facts, {})).action is ToolAction.BOOK
    facts[week[1]] = available(week[1], own_status="accepted")
    assert run(facts, {}, week) == {week[1]: DraftAction.CANCEL, week[3]: DraftAction.CANCEL}


def test_locked_and_closed_days_are_not_the_first_reservable_day() -> None:
    week = week_of(date(2025, 9, 15))
    facts = {
        week[0]: DayFacts(
            week[0], True, False, False, own_status=ReservationStatus.ACCEPTED
        ),  # locked
        week[1]: available(week[1]),
    }
    assert run(facts, {}, week) == {week[1]: DraftAction.BOOK}


def test_nothing_to_do() -> None:
    result = toggle(week_of(date(2025, 9, 15)), {})
    assert result.action is ToolAction.NONE
    assert result.changes == ()


@given(month_facts(YEAR, MONTH), selections())
@settings(max_examples=200)
def test_the_set_ends_uniform_and_only_set_days_change(
    facts: dict[date, DayFacts], days: list[date]
) -> None:
    drafts = drafts_of(facts)
    result = toggle(days, views_of(facts, drafts))
    assert {c.day for c in result.changes} <= set(days) & set(facts)
    after = views_of(facts, apply_changes(drafts, result.changes))
    targets = [after[d] for d in set(days) & set(facts) if after[d].can_toggle]
    assert all(v.stale_draft is None for v in after.values())
    if result.action is ToolAction.BOOK:
        assert all(v.effectively_booked for v in targets)
    elif result.action is ToolAction.CANCEL:
        assert not any(v.effectively_booked for v in targets)
    else:
        assert targets == [] and result.changes == ()


@given(month_facts(YEAR, MONTH), selections())
@settings(max_examples=200)
def test_after_one_toggle_each_second_toggle_undoes(
    facts: dict[date, DayFacts], days: list[date]
) -> None:
    once = run(facts, drafts_of(facts), days)
    assert run(facts, run(facts, once, days), days) == once


@given(month_facts(YEAR, MONTH), selections(), st.booleans())
@settings(max_examples=200)
def test_twice_returns_to_the_original_basket_for_a_uniform_set(
    facts: dict[date, DayFacts], days: list[date], booked: bool
) -> None:
    # Make the set uniform first: keep only days that match ``booked``.
    views = views_of(facts, drafts_of(facts))
    facts = {
        d: f
        for d, f in facts.items()
        if d not in days or not views[d].can_toggle or views[d].effectively_booked == booked
    }
    original = drafts_of(facts)
    assert run(facts, run(facts, original, days), days) == original


@given(month_facts(YEAR, MONTH))
@settings(max_examples=100)
def test_toggling_one_day_is_a_tap(facts: dict[date, DayFacts]) -> None:
    drafts = drafts_of(facts)
    views = views_of(facts, drafts)
    for day, view in views.items():
        changes = toggle([day], views).changes
        expected = {
            TapAction.BOOK: (DraftChange(day, DraftAction.BOOK),),
            TapAction.CANCEL: (DraftChange(day, DraftAction.CANCEL),),
            TapAction.UNDO: (DraftChange(day, None),),
            TapAction.NONE: (),
        }[view.tap]
        assert changes == expected


def test_waitlist_only_days_are_booked_too() -> None:
    day = date(2025, 9, 16)
    facts = {
        day: DayFacts(day, True, True, True, capacity=1, accepted_count=1, waitlist_capacity=3)
    }
    assert views_of(facts, {})[day].state is DayState.WAITLIST_ONLY
    assert run(facts, {}, [day]) == {day: DraftAction.BOOK}
