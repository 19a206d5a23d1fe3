"""Brief accessible names of calendar days: the state of each activity, not the legend.

"mercredi 9 décembre 2026 : réservé (Restauration Scolaire), liste d'attente (ALSH)"
rather than the legend's whole sentence; activities in the same state are grouped.
"""

from __future__ import annotations

from collections.abc import Iterable

from portal.domain.booking.states import DayState, DayView, DraftAction

STATE_WORDS = {
    DayState.CLOSED: "fermé",
    DayState.FULL: "complet",
    DayState.AVAILABLE: "libre",
    DayState.WAITLIST_ONLY: "liste d'attente possible",
    DayState.BOOKED: "réservé",
    DayState.WAITLISTED: "liste d'attente",
    DayState.BOOKED_LOCKED: "réservé, non modifiable",
    DayState.WAITLISTED_LOCKED: "liste d'attente, non annulable",
    DayState.ABSENCE: "absence signalée",
}
DRAFT_WORDS = {DraftAction.BOOK: "à réserver", DraftAction.CANCEL: "à annuler"}


def state_words(view: DayView) -> str:
    return DRAFT_WORDS[view.draft] if view.draft else STATE_WORDS[view.state]


def day_summary(entries: Iterable[tuple[str, DayView]]) -> str:
    """ "réservé (Restauration Scolaire), liste d'attente (ALSH)": each state once, with the
    activities in it, in the order the activities come."""
    groups: dict[str, list[str]] = {}
    for activity, view in entries:
        groups.setdefault(state_words(view), []).append(activity)
    return ", ".join(f"{words} ({', '.join(names)})" for words, names in groups.items())
