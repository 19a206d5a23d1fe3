"""Quick tools say beforehand what a tap will do (seed rule: the first reservable day)."""

from __future__ import annotations

from datetime import date, timedelta

from portal.domain.booking.quicktools import ToolAction, month_tools, preview, toggle
from portal.domain.booking.states import DayFacts, DayView, ReservationStatus, day_view

MONDAY = date(2026, 12, 7)


def _view(day: date, booked: bool = False, open_: bool = True) -> DayView:
    return day_view(
        DayFacts(
            day=day,
            is_open=open_,
            booking_open=open_,
            cancellation_open=open_,
            own_status=ReservationStatus.ACCEPTED if booked else None,
        )
    )


def test_preview_is_what_the_tap_does() -> None:
    free_then_booked = [_view(MONDAY), _view(MONDAY + timedelta(days=1), booked=True)]
    booked_then_free = [_view(MONDAY, booked=True), _view(MONDAY + timedelta(days=1))]
    closed = [_view(MONDAY, open_=False)]
    for views in (free_then_booked, booked_then_free, closed):
        tapped = toggle([v.day for v in views], {v.day: v for v in views}).action
        assert preview(views) is tapped
    assert preview(free_then_booked) is ToolAction.BOOK
    assert preview(booked_then_free) is ToolAction.CANCEL
    assert preview(closed) is ToolAction.NONE
    assert preview([None, None]) is ToolAction.NONE


def test_month_tools_preview_each_week_and_weekday() -> None:
    week1 = [
        (MONDAY + timedelta(days=i), True, _view(MONDAY + timedelta(days=i), booked=i < 2))
        for i in range(5)
    ]
    week2 = [
        (MONDAY + timedelta(days=7 + i), True, _view(MONDAY + timedelta(days=7 + i)))
        for i in range(5)
    ]
    outside = [
        (MONDAY + timedelta(days=14), False, _view(MONDAY + timedelta(days=14), booked=True))
    ]
    tools = month_tools([week1, week2, outside])
    assert tools.month is ToolAction.CANCEL  # the month's first reservable day is booked
    assert tools.weeks == (ToolAction.CANCEL, ToolAction.BOOK, ToolAction.NONE)
    assert tools.weekdays[0] is ToolAction.CANCEL  # Mondays: 7 booked, 14 free
    assert tools.weekdays[2] is ToolAction.BOOK  # Wednesdays: none booked
    assert tools.weekdays[6] is ToolAction.NONE  # no Sunday shown
