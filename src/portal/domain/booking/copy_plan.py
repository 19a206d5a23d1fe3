"""Copy ("Importer") the booked or drafted days of one person and activity to another.

Each source day goes through the target's rules and either lands in the draft basket
(a ``DraftChange``, never the register) or is reported with one reason, checked in this
order: already booked, closed, late, no place, incompatible hours. A target day drafted
"à annuler" is copied by removing that draft. Waitlist-only target days are copied (the
recap will say "Mise en liste d'attente") unless ``allow_waitlist`` is False.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

from portal.domain.booking.hours import TimeRange, is_compatible
from portal.domain.booking.quicktools import DraftChange
from portal.domain.booking.states import DayState, DayView, DraftAction, ReservationStatus


class SkipReason(Enum):
    """Why a day was not copied (the value is the French wording of the report)."""

    ALREADY_BOOKED = "Déjà réservé"
    CLOSED = "Fermé"
    LATE = "Hors délai"
    NO_PLACE = "Plus de place"
    INCOMPATIBLE = "Horaires incompatibles"

    @property
    def label(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class CopyRequest:
    """One day to copy, with the time range the target booking would have (None: no check)."""

    day: date
    time_range: TimeRange | None = None


@dataclass(frozen=True)
class SkippedDay:
    day: date
    reason: SkipReason


@dataclass(frozen=True)
class CopyPlan:
    changes: tuple[DraftChange, ...]  # to apply to the target's basket
    skipped: tuple[SkippedDay, ...]  # "Liste des réservations non importées", by date

    @property
    def copied_days(self) -> tuple[date, ...]:
        return tuple(change.day for change in self.changes)


def source_days(views: Mapping[date, DayView], start: date, end: date) -> list[date]:
    """Days from ``start`` to ``end`` (included) booked, requested or drafted "à réserver"
    once the basket is applied; refused requests are not copied."""
    return sorted(
        day
        for day, view in views.items()
        if start <= day <= end
        and view.effectively_booked
        and not (view.own_status is ReservationStatus.REFUSED and view.draft is None)
    )


def _skip_reason(
    request: CopyRequest,
    view: DayView | None,
    existing: Sequence[TimeRange],
    allow_waitlist: bool,
) -> SkipReason | None:
    if view is not None and view.effectively_booked:
        return SkipReason.ALREADY_BOOKED
    if view is not None and view.draft is DraftAction.CANCEL:
        return None  # undoing the cancellation keeps the booking that is already there
    if view is None or not view.is_open:
        return SkipReason.CLOSED
    if not view.booking_open:
        return SkipReason.LATE
    if view.state is DayState.FULL or (view.state is DayState.WAITLIST_ONLY and not allow_waitlist):
        return SkipReason.NO_PLACE
    if request.time_range is not None and not is_compatible(request.time_range, existing):
        return SkipReason.INCOMPATIBLE
    return None


def plan_copy(
    requests: Iterable[CopyRequest],
    target_views: Mapping[date, DayView],
    target_bookings: Mapping[date, Sequence[TimeRange]],
    *,
    allow_waitlist: bool = True,
) -> CopyPlan:
    """Plan the copy onto the target person and activity.

    ``target_views``: the target activity's days for the target person (a day missing is
    closed). ``target_bookings``: per date, the time ranges of the target person's other
    bookings and basket drafts on other activities.
    """
    changes: list[DraftChange] = []
    skipped: list[SkippedDay] = []
    seen: set[date] = set()
    for request in sorted(requests, key=lambda r: r.day):
        if request.day in seen:
            continue
        seen.add(request.day)
        view = target_views.get(request.day)
        reason = _skip_reason(request, view, target_bookings.get(request.day, ()), allow_waitlist)
        if reason is not None:
            skipped.append(SkippedDay(request.day, reason))
        elif view is not None and view.draft is DraftAction.CANCEL:
            changes.append(DraftChange(request.day, None))
        else:
            changes.append(DraftChange(request.day, DraftAction.BOOK))
    return CopyPlan(tuple(changes), tuple(skipped))
