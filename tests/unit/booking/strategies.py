"""Hypothesis strategies shared by the booking tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

from hypothesis import strategies as st

from portal.domain.booking.quicktools import month_days
from portal.domain.booking.states import (
    DayFacts,
    DayView,
    DraftAction,
    ReservationStatus,
    day_view,
)

capacities = st.one_of(st.none(), st.integers(min_value=0, max_value=6))
counts = st.integers(min_value=0, max_value=8)
times = st.builds(time, st.integers(0, 23), st.integers(0, 59))


@st.composite
def day_facts(draw: st.DrawFn, day: date | None = None) -> DayFacts:
    return DayFacts(
        day=day if day is not None else draw(st.dates(date(2024, 1, 1), date(2027, 12, 31))),
        is_open=draw(st.booleans()),
        booking_open=draw(st.booleans()),
        cancellation_open=draw(st.booleans()),
        capacity=draw(capacities),
        waitlist_capacity=draw(capacities),
        accepted_count=draw(counts),
        waitlisted_count=draw(counts),
        own_status=draw(st.one_of(st.none(), st.sampled_from(ReservationStatus))),
        draft=draw(st.one_of(st.none(), st.sampled_from(DraftAction))),
    )


def clean(facts: DayFacts) -> DayFacts:
    """The same facts without a draft that would be stale (a basket kept tidy)."""
    if day_view(facts).stale_draft is not None:
        return replace(facts, draft=None)
    return facts


@st.composite
def month_facts(draw: st.DrawFn, year: int = 2025, month: int = 9) -> dict[date, DayFacts]:
    """Facts for a random subset of the month's days, without stale drafts."""
    days = draw(st.lists(st.sampled_from(month_days(year, month)), unique=True, max_size=30))
    return {day: clean(draw(day_facts(day))) for day in days}


def views_of(facts: dict[date, DayFacts], drafts: dict[date, DraftAction]) -> dict[date, DayView]:
    """Views of ``facts`` with the basket ``drafts`` in place of their own drafts."""
    return {day: day_view(replace(f, draft=drafts.get(day))) for day, f in facts.items()}


def drafts_of(facts: dict[date, DayFacts]) -> dict[date, DraftAction]:
    return {day: f.draft for day, f in facts.items() if f.draft is not None}
