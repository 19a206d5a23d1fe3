"""What a parent sees on a calendar day: per-activity states and the aggregate over activities.

Reservation statuses and how they show:
- ``accepted`` and ``pending`` (awaiting a staff decision) show as booked: the parent asked
  for the day and nothing more is needed from them; ``DayView.awaiting_decision`` lets the
  UI add "en attente de traitement";
- ``waitlisted`` and ``refused`` show as "demandée en liste d'attente ou refusée": the
  request exists and can be cancelled until the cancellation deadline;
- ``cancelled`` shows as if there were no reservation;
- an accepted booking with an absence declared by the parent ("enfant malade") shows as
  "absence signalée", whatever the deadlines: nothing more can be done on it.

A draft ("à réserver" / "à annuler") is shown on top of the state only where it still
makes sense (booking on a bookable day, cancelling on a cancellable one); any other draft
is reported in ``DayView.stale_draft`` so the caller drops it from the basket.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum

# The statuses are the register's vocabulary, below booking and money (both read them).
from portal.domain.reservation_status import ReservationStatus as ReservationStatus


class DraftAction(StrEnum):
    BOOK = "book"
    CANCEL = "cancel"

    @property
    def label(self) -> str:
        return _DRAFT_LABELS[self]


_DRAFT_LABELS = {DraftAction.BOOK: "à réserver", DraftAction.CANCEL: "à annuler"}


class TapAction(StrEnum):
    """What tapping the day does to the basket."""

    BOOK = "book"  # add a "book" draft
    CANCEL = "cancel"  # add a "cancel" draft
    UNDO = "undo"  # remove the draft already there
    NONE = "none"  # nothing can be done


BOOKED_STATUSES = frozenset({ReservationStatus.ACCEPTED, ReservationStatus.PENDING})
REQUESTED_STATUSES = frozenset({ReservationStatus.WAITLISTED, ReservationStatus.REFUSED})


class DayState(Enum):
    """State of one activity on one day; the value is the icon name."""

    CLOSED = "closed"
    FULL = "full"
    AVAILABLE = "available"
    WAITLIST_ONLY = "waitlist"
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    BOOKED_LOCKED = "booked-locked"
    WAITLISTED_LOCKED = "waitlisted-locked"
    ABSENCE = "absence"

    @property
    def icon(self) -> str:
        return str(self.value)

    @property
    def label(self) -> str:
        return _DAY_LABELS[self][0]

    @property
    def short_label(self) -> str:
        return _DAY_LABELS[self][1]

    @property
    def is_own(self) -> bool:
        """The person has a reservation or a request on that day."""
        return self in _OWN_STATES

    @property
    def is_bookable(self) -> bool:
        return self in (DayState.AVAILABLE, DayState.WAITLIST_ONLY)

    @property
    def is_cancellable(self) -> bool:
        return self in (DayState.BOOKED, DayState.WAITLISTED)


_OWN_STATES = frozenset(
    {
        DayState.BOOKED,
        DayState.WAITLISTED,
        DayState.BOOKED_LOCKED,
        DayState.WAITLISTED_LOCKED,
        DayState.ABSENCE,
    }
)

_DAY_LABELS: dict[DayState, tuple[str, str]] = {
    DayState.CLOSED: (
        "L'activité n'est pas ouverte ou vous êtes hors délai pour réserver ce jour",
        "Fermé",
    ),
    DayState.FULL: ("Activité complète (liste d'attente comprise)", "Complet"),
    DayState.AVAILABLE: ("Activité disponible", "Libre"),
    DayState.WAITLIST_ONLY: (
        "Activité disponible uniquement en liste d'attente",
        "Liste d'attente",
    ),
    DayState.BOOKED: ("Activité réservée, modifiable", "Réservé"),
    DayState.WAITLISTED: ("Activité demandée en liste d'attente ou refusée, annulable", "Demandé"),
    DayState.BOOKED_LOCKED: ("Activité réservée, non modifiable", "Réservé, hors délai"),
    DayState.WAITLISTED_LOCKED: (
        "Activité en liste d'attente ou refusée, non annulable",
        "Demandé, hors délai",
    ),
    DayState.ABSENCE: ("Activité réservée, absence signalée", "Absence signalée"),
}


@dataclass(frozen=True)
class DayFacts:
    """Everything needed to show one activity on one day for one person.

    ``booking_open`` / ``cancellation_open`` come from ``deadlines`` (opening instant and
    deadline). Counters include the person's own reservation. ``capacity`` None means
    unlimited; ``waitlist_capacity`` None means unlimited and 0 no waitlist.
    """

    day: date
    is_open: bool
    booking_open: bool
    cancellation_open: bool
    capacity: int | None = None
    waitlist_capacity: int | None = 0
    accepted_count: int = 0
    waitlisted_count: int = 0
    own_status: ReservationStatus | None = None
    draft: DraftAction | None = None
    absence_declared: bool = False

    def __post_init__(self) -> None:
        # Accept the plain strings stored in the database ("accepted", "book").
        if self.own_status is not None:
            object.__setattr__(self, "own_status", ReservationStatus(self.own_status))
        if self.draft is not None:
            object.__setattr__(self, "draft", DraftAction(self.draft))
        for name in ("capacity", "waitlist_capacity"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0 or None")
        if self.accepted_count < 0 or self.waitlisted_count < 0:
            raise ValueError("counters must be >= 0")


@dataclass(frozen=True)
class DayView:
    """The computed display of one activity on one day (build it with ``day_view``)."""

    day: date
    state: DayState
    places_left: int | None  # None: unlimited capacity
    waitlist_places_left: int | None  # None: unlimited waitlist; 0 also when there is none
    own_status: ReservationStatus | None
    draft: DraftAction | None  # overlay shown on top of the state
    stale_draft: DraftAction | None  # a basket draft that no longer applies: drop it
    tap: TapAction
    is_open: bool
    booking_open: bool

    @property
    def can_toggle(self) -> bool:
        return self.tap is not TapAction.NONE

    @property
    def awaiting_decision(self) -> bool:
        return self.own_status is ReservationStatus.PENDING

    @property
    def effectively_booked(self) -> bool:
        """Booked or requested once the basket is applied ("à réserver", or own not "à annuler")."""
        if self.draft is DraftAction.BOOK:
            return True
        return self.state.is_own and self.draft is not DraftAction.CANCEL

    @property
    def overlay_label(self) -> str | None:
        return None if self.draft is None else self.draft.label

    @property
    def overlay_icon(self) -> str | None:
        return None if self.draft is None else f"draft-{self.draft.value}"

    @property
    def label(self) -> str:
        """Full accessible label: state, then the draft overlay if any."""
        if self.draft is None:
            return self.state.label
        return f"{self.state.label} ({self.draft.label})"


def _has_room(capacity: int | None, used: int) -> bool:
    return capacity is None or used < capacity


def _left(capacity: int | None, used: int) -> int | None:
    return None if capacity is None else max(0, capacity - used)


def _state(facts: DayFacts) -> DayState:
    status = facts.own_status
    if status is ReservationStatus.ACCEPTED and facts.absence_declared:
        return DayState.ABSENCE
    if status in BOOKED_STATUSES:
        return DayState.BOOKED if facts.cancellation_open else DayState.BOOKED_LOCKED
    if status in REQUESTED_STATUSES:
        return DayState.WAITLISTED if facts.cancellation_open else DayState.WAITLISTED_LOCKED
    if not (facts.is_open and facts.booking_open):
        return DayState.CLOSED
    if _has_room(facts.capacity, facts.accepted_count):
        return DayState.AVAILABLE
    if _has_room(facts.waitlist_capacity, facts.waitlisted_count):
        return DayState.WAITLIST_ONLY
    return DayState.FULL


def day_view(facts: DayFacts) -> DayView:
    """Compute the state, places left, draft overlay and tap action of one day."""
    state = _state(facts)
    draft: DraftAction | None = None
    stale: DraftAction | None = None
    if facts.draft is DraftAction.BOOK and state.is_bookable:
        draft = facts.draft
    elif facts.draft is DraftAction.CANCEL and state.is_cancellable:
        draft = facts.draft
    else:
        stale = facts.draft
    if draft is not None:
        tap = TapAction.UNDO
    elif state.is_bookable:
        tap = TapAction.BOOK
    elif state.is_cancellable:
        tap = TapAction.CANCEL
    else:
        tap = TapAction.NONE
    return DayView(
        day=facts.day,
        state=state,
        places_left=_left(facts.capacity, facts.accepted_count),
        waitlist_places_left=_left(facts.waitlist_capacity, facts.waitlisted_count),
        own_status=(None if facts.own_status is ReservationStatus.CANCELLED else facts.own_status),
        draft=draft,
        stale_draft=stale,
        tap=tap,
        is_open=facts.is_open,
        booking_open=facts.booking_open,
    )


# --- aggregate over the child's activities -------------------------------------------


class AggregateState(Enum):
    """State of a day over all the child's activities; the value is the icon name."""

    NONE_OPEN = "closed"
    ALL_FULL = "full"
    AVAILABLE = "available"
    WAITLIST_AVAILABLE = "waitlist"
    BOOKED = "booked"
    BOOKED_WITH_WAITLIST = "booked-waitlist"
    BOOKED_LOCKED = "booked-locked"
    BOOKED_LOCKED_WITH_WAITLIST = "booked-locked-waitlist"
    ABSENCE = "absence"

    @property
    def icon(self) -> str:
        return str(self.value)

    @property
    def label(self) -> str:
        return _AGGREGATE_LABELS[self][0]

    @property
    def short_label(self) -> str:
        return _AGGREGATE_LABELS[self][1]


_AGGREGATE_LABELS: dict[AggregateState, tuple[str, str]] = {
    AggregateState.NONE_OPEN: (
        "Aucune activité n'est ouverte ou vous êtes hors délai pour réserver les activités "
        "ouvertes.",
        "Fermé",
    ),
    AggregateState.ALL_FULL: (
        "Toutes les activités sont complètes (liste d'attente comprise), vous ne pouvez donc "
        "plus les réserver.",
        "Complet",
    ),
    AggregateState.AVAILABLE: (
        "Au moins une activité est ouverte, vous n'en avez réservé aucune.",
        "Libre",
    ),
    AggregateState.WAITLIST_AVAILABLE: (
        "Au moins une activité est ouverte et au moins une est complète mais a encore des "
        "places en liste d'attente. Vous n'avez réservé aucune activité.",
        "Liste d'attente",
    ),
    AggregateState.BOOKED: (
        "Vous avez réservé au moins une activité. Vous pouvez encore réserver ou annuler "
        "certaines activités.",
        "Réservé",
    ),
    AggregateState.BOOKED_WITH_WAITLIST: (
        "Vous avez réservé au moins une activité. Vous pouvez encore réserver ou annuler "
        "certaines activités. Au moins une des activités (déjà réservée ou non) est ou sera "
        "en liste d'attente.",
        "Réservé, liste d'attente",
    ),
    AggregateState.BOOKED_LOCKED: (
        "Vous avez réservé une ou plusieurs activités, mais vous êtes hors délai pour les "
        "annuler. Aucune autre activité ne peut être réservée.",
        "Réservé, hors délai",
    ),
    AggregateState.BOOKED_LOCKED_WITH_WAITLIST: (
        "Vous avez réservé une ou plusieurs activités, dont au moins une en liste d'attente, "
        "mais vous êtes hors délai pour les annuler. Aucune autre activité ne peut être "
        "réservée.",
        "Réservé, liste d'attente, hors délai",
    ),
    AggregateState.ABSENCE: (
        "Vous avez signalé une absence sur au moins une activité réservée ce jour-là.",
        "Absence signalée",
    ),
}


def aggregate_state(views: Iterable[DayView]) -> AggregateState:
    """Combine one day's per-activity views (committed states; drafts are not counted).

    - something of the person's (booked or requested) on the day -> one of the four
      "booked" states: actionable while any activity can still be booked or cancelled,
      "with waitlist" when a request is waitlisted/refused or, while actionable, an
      activity is only available on the waitlist;
    - an absence declared on any activity -> ABSENCE (the day list tells which);
    - otherwise: any waitlist-only activity -> WAITLIST_AVAILABLE; else any available
      -> AVAILABLE; else any full -> ALL_FULL (closed activities are not "open", so
      they do not prevent "all full"); else (including no activity) NONE_OPEN.
    """
    states = {view.state for view in views}
    if DayState.ABSENCE in states:
        return AggregateState.ABSENCE
    own = states & _OWN_STATES
    requested = bool(states & {DayState.WAITLISTED, DayState.WAITLISTED_LOCKED})
    if own:
        actionable = any(state.is_bookable or state.is_cancellable for state in states)
        if actionable:
            if requested or DayState.WAITLIST_ONLY in states:
                return AggregateState.BOOKED_WITH_WAITLIST
            return AggregateState.BOOKED
        if requested:
            return AggregateState.BOOKED_LOCKED_WITH_WAITLIST
        return AggregateState.BOOKED_LOCKED
    if DayState.WAITLIST_ONLY in states:
        return AggregateState.WAITLIST_AVAILABLE
    if DayState.AVAILABLE in states:
        return AggregateState.AVAILABLE
    if DayState.FULL in states:
        return AggregateState.ALL_FULL
    return AggregateState.NONE_OPEN


def has_drafts(views: Iterable[DayView]) -> bool:
    """True when any activity of the day has a draft, to overlay the aggregate cell."""
    return any(view.draft is not None for view in views)
