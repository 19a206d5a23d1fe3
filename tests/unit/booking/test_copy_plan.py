from __future__ import annotations

from datetime import date, time

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.booking.copy_plan import (
    CopyRequest,
    SkipReason,
    plan_copy,
    source_days,
)
from portal.domain.booking.hours import TimeRange
from portal.domain.booking.quicktools import DraftChange, apply_changes, month_days
from portal.domain.booking.states import DayFacts, DayView, DraftAction, day_view
from tests.unit.booking.strategies import drafts_of, month_facts, views_of

MORNING = TimeRange(time(7, 30), time(8, 45))


def d(number: int) -> date:
    return date(2017, 5, number)


def target(number: int, **changes: object) -> DayView:
    fields: dict[str, object] = {"is_open": True, "booking_open": True, "cancellation_open": True}
    fields.update(changes)
    return day_view(DayFacts(d(number), **fields))  # type: ignore[arg-type]


def test_report_lists_every_reason() -> None:
    views = {
        2: target(2, capacity=10),
        3: target(3, own_status="accepted"),
        4: target(4, is_open=False, booking_open=False),  # closed wins over late
        5: target(5, booking_open=False),
        9: target(9, capacity=1, accepted_count=1),
        10: target(10, capacity=10),
        11: target(11, capacity=1, accepted_count=1, waitlist_capacity=None),
        12: target(12, capacity=10, draft="book"),
        15: target(15, own_status="accepted", draft="cancel"),
    }
    plan = plan_copy(
        [CopyRequest(d(n), MORNING) for n in (2, 3, 4, 5, 9, 10, 11, 12, 15, 16)],
        {d(n): v for n, v in views.items()},
        {d(10): [TimeRange(time(8, 30), time(12, 0))], d(2): [TimeRange(time(8, 45), time(9, 0))]},
    )
    assert plan.changes == (
        DraftChange(d(2), DraftAction.BOOK),
        DraftChange(d(11), DraftAction.BOOK),
        DraftChange(d(15), None),
    )
    assert [(s.day.day, s.reason.label) for s in plan.skipped] == [
        (3, "Déjà réservé"),
        (4, "Fermé"),
        (5, "Hors délai"),
        (9, "Plus de place"),
        (10, "Horaires incompatibles"),
        (12, "Déjà réservé"),
        (16, "Fermé"),
    ]
    strict = plan_copy([CopyRequest(d(11))], {d(11): views[11]}, {}, allow_waitlist=False)
    assert strict.skipped[0].reason is SkipReason.NO_PLACE
    assert plan.copied_days == (d(2), d(11), d(15))


def test_source_days_are_booked_requested_or_drafted() -> None:
    views = {
        d(2): target(2, own_status="accepted"),
        d(3): target(3, own_status="waitlisted"),
        d(4): target(4, own_status="refused"),
        d(5): target(5, own_status="accepted", draft="cancel"),
        d(9): target(9, capacity=4, draft="book"),
        d(10): target(10, capacity=4),
        d(11): target(11, own_status="pending", cancellation_open=False),
        d(31): target(31, own_status="accepted"),
    }
    assert source_days(views, d(1), d(30)) == [d(2), d(3), d(9), d(11)]


@given(month_facts(2025, 9), st.lists(st.sampled_from(month_days(2025, 9)), max_size=20))
@settings(max_examples=150)
def test_every_day_is_copied_or_reported_once_and_lands_booked(
    facts: dict[date, DayFacts], days: list[date]
) -> None:
    drafts = drafts_of(facts)
    views = views_of(facts, drafts)
    plan = plan_copy([CopyRequest(day) for day in days], views, {})
    reported = [c.day for c in plan.changes] + [s.day for s in plan.skipped]
    assert sorted(reported) == sorted(set(days))
    after = views_of(facts, apply_changes(drafts, plan.changes))
    for change in plan.changes:
        assert after[change.day].effectively_booked
        assert after[change.day].stale_draft is None
    for skipped in plan.skipped:
        if skipped.reason is SkipReason.ALREADY_BOOKED:
            assert views[skipped.day].effectively_booked
        else:
            assert skipped.day not in views or not views[skipped.day].effectively_booked
