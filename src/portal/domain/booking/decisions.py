"""The decision for one basket item against the day's counters, and waitlist promotion.

The service applies a decision with a conditional update of the counters inside one
write transaction (CHECK constraints as backstop); these functions say what the outcome
must be for the counters it read in that transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum, StrEnum

from portal.domain.booking.states import ReservationStatus


class Remark(Enum):
    """Observation shown in the recap's remarks table (the value is the French wording)."""

    WAITLISTED = "Mise en liste d'attente"
    FULL = "Non traitée, activité complète"
    PENDING = "En attente de traitement par nos services"
    INCOMPATIBLE = "Horaires incompatibles"
    LATE = "Hors délai"
    CLOSED = "Activité fermée ce jour"

    @property
    def label(self) -> str:
        return str(self.value)


class Outcome(StrEnum):
    """What a booking request becomes (the reservation's status, or nothing recorded)."""

    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    PENDING = "pending"
    REFUSED = "refused"  # recorded as a refused reservation (cancellable, in tracking)
    REJECTED = "rejected"  # nothing recorded: late, closed or incompatible


@dataclass(frozen=True)
class DayCounters:
    """Capacity (None = unlimited), waitlist capacity (None = unlimited, 0 = none), counters."""

    capacity: int | None
    waitlist_capacity: int | None
    accepted_count: int = 0
    waitlisted_count: int = 0

    def __post_init__(self) -> None:
        if (self.capacity is not None and self.capacity < 0) or (
            self.waitlist_capacity is not None and self.waitlist_capacity < 0
        ):
            raise ValueError("capacities must be >= 0 or None")
        if self.accepted_count < 0 or self.waitlisted_count < 0:
            raise ValueError("counters must be >= 0")

    @property
    def has_place(self) -> bool:
        return self.capacity is None or self.accepted_count < self.capacity

    @property
    def has_waitlist_place(self) -> bool:
        return self.waitlist_capacity is None or self.waitlisted_count < self.waitlist_capacity


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    remark: Remark | None  # None only for a plain acceptance
    waitlist_rank: int | None = None  # 1-based, set when waitlisted

    @property
    def status(self) -> ReservationStatus | None:
        """Status of the reservation to record, None when nothing is recorded."""
        return _STATUS_OF[self.outcome]


_STATUS_OF: dict[Outcome, ReservationStatus | None] = {
    Outcome.ACCEPTED: ReservationStatus.ACCEPTED,
    Outcome.WAITLISTED: ReservationStatus.WAITLISTED,
    Outcome.PENDING: ReservationStatus.PENDING,
    Outcome.REFUSED: ReservationStatus.REFUSED,
    Outcome.REJECTED: None,
}


def decide_booking(
    counters: DayCounters,
    *,
    needs_staff_decision: bool = False,
    day_open: bool = True,
    booking_open: bool = True,
    incompatible: bool = False,
) -> Decision:
    """Decide one booking request; checks in order: closed, late, incompatible, staff, places.

    A request for an activity that needs a staff decision becomes ``pending`` whatever the
    counters: it holds no place until staff accept it.
    """
    if not day_open:
        return Decision(Outcome.REJECTED, Remark.CLOSED)
    if not booking_open:
        return Decision(Outcome.REJECTED, Remark.LATE)
    if incompatible:
        return Decision(Outcome.REJECTED, Remark.INCOMPATIBLE)
    if needs_staff_decision:
        return Decision(Outcome.PENDING, Remark.PENDING)
    if counters.has_place:
        return Decision(Outcome.ACCEPTED, None)
    if counters.has_waitlist_place:
        return Decision(Outcome.WAITLISTED, Remark.WAITLISTED, counters.waitlisted_count + 1)
    return Decision(Outcome.REFUSED, Remark.FULL)


def apply_decision(counters: DayCounters, decision: Decision) -> DayCounters:
    """Counters after recording ``decision``."""
    if decision.outcome is Outcome.ACCEPTED:
        return replace(counters, accepted_count=counters.accepted_count + 1)
    if decision.outcome is Outcome.WAITLISTED:
        return replace(counters, waitlisted_count=counters.waitlisted_count + 1)
    return counters


@dataclass(frozen=True)
class CancellationDecision:
    allowed: bool
    remark: Remark | None  # LATE when refused
    frees_place: bool  # an accepted place is freed: promote from the waitlist
    leaves_waitlist: bool  # a waitlisted request leaves: re-rank the waitlist


def decide_cancellation(
    status: ReservationStatus, *, cancellation_open: bool
) -> CancellationDecision:
    """Cancelling is allowed for any live status until the cancellation deadline."""
    if status is ReservationStatus.CANCELLED:
        raise ValueError("reservation is already cancelled")
    if not cancellation_open:
        return CancellationDecision(False, Remark.LATE, False, False)
    return CancellationDecision(
        allowed=True,
        remark=None,
        frees_place=status is ReservationStatus.ACCEPTED,
        leaves_waitlist=status is ReservationStatus.WAITLISTED,
    )


# --- waitlist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitlistEntry:
    reservation_id: int
    confirmed_at: datetime


def _waitlist_key(entry: WaitlistEntry) -> tuple[datetime, int]:
    return (entry.confirmed_at, entry.reservation_id)


def waitlist_order(entries: Iterable[WaitlistEntry]) -> list[WaitlistEntry]:
    """The waitlist in promotion order: confirmation time, then reservation id."""
    return sorted(entries, key=_waitlist_key)


def waitlist_ranks(entries: Iterable[WaitlistEntry]) -> dict[int, int]:
    """Reservation id -> rank 1..n, contiguous, to rewrite after anyone leaves the list."""
    return {entry.reservation_id: rank for rank, entry in enumerate(waitlist_order(entries), 1)}


def next_promotion(entries: Iterable[WaitlistEntry]) -> WaitlistEntry | None:
    """The waitlisted request promoted when one accepted place is freed."""
    ordered = waitlist_order(entries)
    return ordered[0] if ordered else None


def promotions(counters: DayCounters, entries: Sequence[WaitlistEntry]) -> list[WaitlistEntry]:
    """Every waitlisted request to promote given the free places (after a cancellation
    or a capacity increase); all of them when capacity is unlimited."""
    ordered = waitlist_order(entries)
    if counters.capacity is None:
        return ordered
    free = max(0, counters.capacity - counters.accepted_count)
    return ordered[:free]
