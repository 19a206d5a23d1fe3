"""Brief accessible names of calendar days."""

from __future__ import annotations

from datetime import date

from portal.domain.booking.day_names import STATE_WORDS, day_summary
from portal.domain.booking.states import (
    DayFacts,
    DayState,
    DayView,
    DraftAction,
    ReservationStatus,
    day_view,
)

DAY = date(2026, 12, 9)


def _view(status: str | None = None, draft: str | None = None, full: bool = False) -> DayView:
    facts = DayFacts(
        day=DAY,
        is_open=True,
        booking_open=True,
        cancellation_open=True,
        capacity=1 if full else None,
        waitlist_capacity=None,
        accepted_count=1 if full else 0,
        own_status=ReservationStatus(status) if status else None,
        draft=DraftAction(draft) if draft else None,
    )
    return day_view(facts)


def test_summary_names_each_state_with_its_activities() -> None:
    text = day_summary(
        [
            ("Restauration", _view("accepted")),
            ("ALSH", _view("waitlisted")),
            ("Accueil Soir", _view()),
            ("Accueil Matin", _view()),
        ]
    )
    assert text == (
        "réservé (Restauration), liste d'attente (ALSH), libre (Accueil Soir, Accueil Matin)"
    )
    assert " ," not in text


def test_drafts_say_what_will_happen() -> None:
    assert day_summary([("ALSH", _view(draft="book"))]) == "à réserver (ALSH)"


def test_every_state_has_its_own_words() -> None:
    assert set(STATE_WORDS) == set(DayState)
    assert len(set(STATE_WORDS.values())) == len(DayState)
