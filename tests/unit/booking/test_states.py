from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.booking.states import (
    AggregateState,
    DayFacts,
    DayState,
    DayView,
    DraftAction,
    ReservationStatus,
    TapAction,
    aggregate_state,
    day_view,
    has_drafts,
)
from tests.unit.booking.strategies import day_facts

DAY = date(2025, 9, 15)
OWN = {
    DayState.BOOKED,
    DayState.WAITLISTED,
    DayState.BOOKED_LOCKED,
    DayState.WAITLISTED_LOCKED,
    DayState.ABSENCE,
}


def facts(**changes: object) -> DayFacts:
    base = DayFacts(day=DAY, is_open=True, booking_open=True, cancellation_open=True)
    return replace(base, **changes)  # type: ignore[arg-type]


# --- one activity ----------------------------------------------------------------------


@given(day_facts())
@settings(max_examples=400)
def test_places_left_follow_the_counters(f: DayFacts) -> None:
    view = day_view(f)
    if f.capacity is None:
        assert view.places_left is None
    else:
        assert view.places_left is not None
        assert view.places_left >= 0
        assert view.places_left == max(0, f.capacity - f.accepted_count)
    if f.waitlist_capacity is None:
        assert view.waitlist_places_left is None
    else:
        assert view.waitlist_places_left == max(0, f.waitlist_capacity - f.waitlisted_count)


@given(day_facts())
@settings(max_examples=400)
def test_state_is_consistent_with_the_facts(f: DayFacts) -> None:
    view = day_view(f)
    state = view.state
    live = f.own_status not in (None, ReservationStatus.CANCELLED)
    assert (state in OWN) == live
    if live:
        assert (state in (DayState.BOOKED_LOCKED, DayState.WAITLISTED_LOCKED)) == (
            not f.cancellation_open
        )
        booked_like = f.own_status in (ReservationStatus.ACCEPTED, ReservationStatus.PENDING)
        assert (state in (DayState.BOOKED, DayState.BOOKED_LOCKED)) == booked_like
        return
    bookable_day = f.is_open and f.booking_open
    assert (state is DayState.CLOSED) == (not bookable_day)
    if state is DayState.AVAILABLE:
        assert view.places_left is None or view.places_left > 0
    if state is DayState.WAITLIST_ONLY:
        assert view.places_left == 0
        assert view.waitlist_places_left is None or view.waitlist_places_left > 0
    if state is DayState.FULL:
        assert view.places_left == 0
        assert view.waitlist_places_left == 0


@given(day_facts())
@settings(max_examples=400)
def test_draft_overlay_invariants(f: DayFacts) -> None:
    view = day_view(f)
    # The basket draft is either shown or reported stale, never lost nor invented.
    assert (view.draft, view.stale_draft) in ((f.draft, None), (None, f.draft))
    if view.draft is DraftAction.BOOK:
        assert view.state in (DayState.AVAILABLE, DayState.WAITLIST_ONLY)
        assert view.overlay_label == "à réserver"
    if view.draft is DraftAction.CANCEL:
        assert view.state in (DayState.BOOKED, DayState.WAITLISTED)
        assert view.overlay_label == "à annuler"
    assert (view.tap is TapAction.UNDO) == (view.draft is not None)
    assert view.can_toggle == (view.tap is not TapAction.NONE)
    if view.tap is TapAction.BOOK:
        assert view.state in (DayState.AVAILABLE, DayState.WAITLIST_ONLY)
    if view.tap is TapAction.CANCEL:
        assert view.state in (DayState.BOOKED, DayState.WAITLISTED)
    if view.state in (DayState.CLOSED, DayState.FULL, DayState.BOOKED_LOCKED):
        assert not view.can_toggle
    assert view.label.startswith(view.state.label)


@given(day_facts())
def test_a_tap_flips_effective_booking(f: DayFacts) -> None:
    view = day_view(f)
    if view.stale_draft is not None or not view.can_toggle:
        return
    new_draft = {
        TapAction.BOOK: DraftAction.BOOK,
        TapAction.CANCEL: DraftAction.CANCEL,
        TapAction.UNDO: None,
    }[view.tap]
    after = day_view(replace(f, draft=new_draft))
    assert after.effectively_booked != view.effectively_booked
    assert after.stale_draft is None


def test_pending_shows_as_booked_and_awaiting_decision() -> None:
    view = day_view(facts(own_status="pending"))
    assert view.state is DayState.BOOKED
    assert view.awaiting_decision
    assert view.tap is TapAction.CANCEL
    locked = day_view(facts(own_status="pending", cancellation_open=False))
    assert locked.state is DayState.BOOKED_LOCKED


def test_refused_shows_as_a_request_and_cancelled_as_nothing() -> None:
    assert day_view(facts(own_status="refused")).state is DayState.WAITLISTED
    cancelled = day_view(facts(own_status="cancelled", capacity=3, accepted_count=1))
    assert cancelled.state is DayState.AVAILABLE
    assert cancelled.own_status is None
    assert cancelled.places_left == 2


def test_plain_strings_are_accepted_and_checked() -> None:
    f = facts(own_status="accepted", draft="cancel")
    assert f.own_status is ReservationStatus.ACCEPTED
    assert f.draft is DraftAction.CANCEL
    with pytest.raises(ValueError):
        facts(own_status="acepted")
    with pytest.raises(ValueError):
        facts(capacity=-1)


def test_closed_wins_over_full_and_unlimited_capacity_is_available() -> None:
    assert day_view(facts(booking_open=False, capacity=0)).state is DayState.CLOSED
    assert day_view(facts(is_open=False)).state is DayState.CLOSED
    assert day_view(facts(capacity=None, accepted_count=500)).state is DayState.AVAILABLE
    full = facts(capacity=2, accepted_count=2, waitlist_capacity=0)
    assert day_view(full).state is DayState.FULL
    waitlist = facts(capacity=2, accepted_count=2, waitlist_capacity=None, waitlisted_count=9)
    assert day_view(waitlist).state is DayState.WAITLIST_ONLY


def test_stale_draft_is_reported() -> None:
    view = day_view(facts(booking_open=False, draft="book"))
    assert view.draft is None
    assert view.stale_draft is DraftAction.BOOK
    assert view.tap is TapAction.NONE


SEED_LABELS = {
    DayState.CLOSED: "L'activité n'est pas ouverte ou vous êtes hors délai pour réserver ce jour",
    DayState.FULL: "Activité complète (liste d'attente comprise)",
    DayState.AVAILABLE: "Activité disponible",
    DayState.WAITLIST_ONLY: "Activité disponible uniquement en liste d'attente",
    DayState.BOOKED: "Activité réservée, modifiable",
    DayState.WAITLISTED: "Activité demandée en liste d'attente ou refusée, annulable",
    DayState.BOOKED_LOCKED: "Activité réservée, non modifiable",
    DayState.WAITLISTED_LOCKED: "Activité en liste d'attente ou refusée, non annulable",
    # Not in the seed: a day the parent declared absent ("enfant malade", issue 16).
    DayState.ABSENCE: "Activité réservée, absence signalée",
}


def test_labels_icons_and_short_labels() -> None:
    assert {state: state.label for state in DayState} == SEED_LABELS
    assert DayState.CLOSED.icon == "closed"
    assert DayState.BOOKED_LOCKED.icon == "booked-locked"
    day_members: list[DayState | AggregateState] = list(DayState)
    aggregate_members: list[DayState | AggregateState] = list(AggregateState)
    for members in (day_members, aggregate_members):
        assert len({m.icon for m in members}) == len(members)
        assert len({m.short_label for m in members}) == len(members)
        assert len({m.label for m in members}) == len(members)
    assert DayState.AVAILABLE.short_label == "Libre"


# --- aggregate over activities -----------------------------------------------------------


def view(state: DayState) -> DayView:
    """A view in ``state`` built from facts."""
    own = {
        DayState.BOOKED: ("accepted", True),
        DayState.BOOKED_LOCKED: ("accepted", False),
        DayState.WAITLISTED: ("waitlisted", True),
        DayState.WAITLISTED_LOCKED: ("waitlisted", False),
    }
    if state in own:
        status, cancellable = own[state]
        f = facts(own_status=status, cancellation_open=cancellable)
    elif state is DayState.ABSENCE:
        f = facts(own_status="accepted", cancellation_open=False, absence_declared=True)
    else:
        f = {
            DayState.CLOSED: facts(is_open=False),
            DayState.FULL: facts(capacity=1, accepted_count=1),
            DayState.AVAILABLE: facts(capacity=3),
            DayState.WAITLIST_ONLY: facts(capacity=1, accepted_count=1, waitlist_capacity=2),
        }[state]
    result = day_view(f)
    assert result.state is state
    return result


S = DayState
A = AggregateState


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], A.NONE_OPEN),
        ([S.CLOSED, S.CLOSED], A.NONE_OPEN),
        ([S.FULL, S.FULL], A.ALL_FULL),
        ([S.FULL, S.CLOSED], A.ALL_FULL),
        ([S.AVAILABLE, S.FULL, S.CLOSED], A.AVAILABLE),
        ([S.AVAILABLE, S.WAITLIST_ONLY], A.WAITLIST_AVAILABLE),
        ([S.WAITLIST_ONLY, S.CLOSED], A.WAITLIST_AVAILABLE),
        ([S.BOOKED, S.CLOSED], A.BOOKED),
        ([S.BOOKED_LOCKED, S.AVAILABLE], A.BOOKED),
        ([S.BOOKED, S.WAITLIST_ONLY], A.BOOKED_WITH_WAITLIST),
        ([S.BOOKED_LOCKED, S.WAITLISTED], A.BOOKED_WITH_WAITLIST),
        ([S.WAITLISTED, S.FULL], A.BOOKED_WITH_WAITLIST),
        ([S.BOOKED_LOCKED, S.FULL, S.CLOSED], A.BOOKED_LOCKED),
        ([S.BOOKED_LOCKED, S.WAITLISTED_LOCKED], A.BOOKED_LOCKED_WITH_WAITLIST),
        ([S.WAITLISTED_LOCKED], A.BOOKED_LOCKED_WITH_WAITLIST),
    ],
)
def test_aggregate_rules(states: list[DayState], expected: AggregateState) -> None:
    assert aggregate_state([view(s) for s in states]) is expected


@given(st.lists(st.sampled_from(DayState), max_size=5))
def test_aggregate_ignores_order_and_reports_own_days(states: list[DayState]) -> None:
    views = [view(s) for s in states]
    result = aggregate_state(views)
    for permutation in itertools.islice(itertools.permutations(views), 6):
        assert aggregate_state(list(permutation)) is result
    booked_aggregates = {
        A.BOOKED,
        A.BOOKED_WITH_WAITLIST,
        A.BOOKED_LOCKED,
        A.BOOKED_LOCKED_WITH_WAITLIST,
        A.ABSENCE,
    }
    assert (result is A.ABSENCE) == (S.ABSENCE in states)
    assert (result in booked_aggregates) == any(s in OWN for s in states)
    actionable = any(s in (S.AVAILABLE, S.WAITLIST_ONLY, S.BOOKED, S.WAITLISTED) for s in states)
    if result in (A.BOOKED_LOCKED, A.BOOKED_LOCKED_WITH_WAITLIST, A.NONE_OPEN, A.ALL_FULL):
        assert not actionable


def test_aggregate_seed_wording_and_drafts() -> None:
    assert A.AVAILABLE.label == "Au moins une activité est ouverte, vous n'en avez réservé aucune."
    assert A.BOOKED_LOCKED_WITH_WAITLIST.label.startswith(
        "Vous avez réservé une ou plusieurs activités, dont au moins une en liste d'attente"
    )
    drafted = day_view(facts(capacity=3, draft="book"))
    assert has_drafts([view(S.CLOSED), drafted])
    assert not has_drafts([view(S.CLOSED), view(S.AVAILABLE)])


def test_a_declared_absence_shows_whatever_the_deadlines() -> None:
    for cancellable in (True, False):
        absent = day_view(
            facts(own_status="accepted", cancellation_open=cancellable, absence_declared=True)
        )
        assert absent.state is DayState.ABSENCE
        assert absent.tap is TapAction.NONE  # nothing to cancel: the place stays taken
        assert absent.effectively_booked
    # Only an accepted booking can carry one: a waitlisted request shows as such.
    waitlisted = day_view(facts(own_status="waitlisted", absence_declared=True))
    assert waitlisted.state is DayState.WAITLISTED
