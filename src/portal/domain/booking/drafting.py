"""Changing the draft basket: taps, quick tools, time entry, copy ("Importer")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from portal import clock
from portal.domain.booking import copy_plan, hours, quicktools
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.scope import ActivityInfo, BookingError, BookingScope
from portal.domain.booking.states import (
    DraftAction,
)
from portal.domain.booking.views import (
    ActivityDayView,
    DayRows,
    day_views,
    load_day_rows,
    views_of_rows,
)

# --- basket changes ------------------------------------------------------------------


@dataclass(frozen=True)
class ToggleOutcome:
    changed: int
    needs_times: tuple[date, ...] = ()  # time-entry days waiting for arrival/departure
    message: str | None = None
    # The register's days as this toggle read them, for the cells shown after it.
    rows: DayRows | None = None


def check_may_book(scope: BookingScope, person_id: int, activity_id: int) -> None:
    reasons = scope.block_reasons(person_id, activity_id)
    if reasons:
        raise BookingError(reasons[0].message)


async def toggle_days(
    scope: BookingScope,
    basket: Basket,
    person_id: int,
    activity_id: int,
    days: Iterable[date],
    *,
    arrival: time | None = None,
    departure: time | None = None,
    now: datetime | None = None,
) -> ToggleOutcome:
    """Apply the quick-tool rule to a set of days (one day is a set of one)."""
    now = now or clock.utcnow()
    scope.person(person_id)
    activity = scope.activities.get(activity_id)
    if activity is None or activity_id not in scope.enrolled.get(person_id, []):
        raise BookingError("Cette activité n'est pas accessible à cet enfant.")
    wanted = sorted(set(days))
    if not wanted:
        return ToggleOutcome(0)
    rows = await load_day_rows(scope, person_id, [activity_id], wanted[0], wanted[-1])
    views = views_of_rows(scope, person_id, rows, basket, now)
    by_day = {day: entry.view for (a, day), entry in views.items() if day in wanted}
    result = quicktools.toggle(wanted, by_day)
    if result.action is quicktools.ToolAction.BOOK:
        check_may_book(scope, person_id, activity_id)
    if result.action is quicktools.ToolAction.BOOK and activity.time_entry:
        if arrival is None or departure is None:
            days_needing = tuple(c.day for c in result.changes if c.draft is DraftAction.BOOK)
            return ToggleOutcome(0, needs_times=days_needing)
        rule = activity.time_rule
        assert rule is not None
        check = hours.check_time_entry(rule, arrival, departure)
        if not check.ok:
            raise BookingError(" ".join(check.errors))
    for change in result.changes:
        entry = views[(activity_id, change.day)]
        if change.draft is None:
            basket.remove(person_id, entry.activity_day_id)
        else:
            basket.put(
                BasketItem(
                    person_id=person_id,
                    activity_id=activity_id,
                    activity_day_id=entry.activity_day_id,
                    day=change.day,
                    action=change.draft,
                    arrival=arrival if change.draft is DraftAction.BOOK else None,
                    departure=departure if change.draft is DraftAction.BOOK else None,
                )
            )
    if not result.changes:
        return ToggleOutcome(0, message="Aucun jour modifiable dans cette sélection.", rows=rows)
    return ToggleOutcome(len(result.changes), rows=rows)


async def set_times(
    scope: BookingScope,
    basket: Basket,
    person_id: int,
    activity_id: int,
    times_by_day: dict[date, tuple[time, time]],
    now: datetime | None = None,
) -> list[str]:
    """Draft time-entry bookings with their own arrival and departure per day."""
    now = now or clock.utcnow()
    activity = scope.activities.get(activity_id)
    if (
        activity is None
        or not activity.time_entry
        or activity_id not in scope.enrolled.get(person_id, [])
    ):
        raise BookingError("Cette activité n'est pas accessible à cet enfant.")
    check_may_book(scope, person_id, activity_id)
    rule = activity.time_rule
    assert rule is not None
    errors: list[str] = []
    days = sorted(times_by_day)
    views = await day_views(scope, person_id, [activity_id], days[0], days[-1], basket, now)
    for day in days:
        arrival, departure = times_by_day[day]
        entry = views.get((activity_id, day))
        label = day.strftime("%d/%m")
        if entry is None or not (
            entry.view.state.is_bookable or entry.view.draft is DraftAction.BOOK
        ):
            errors.append(f"{label} : ce jour ne peut pas être réservé.")
            continue
        check = hours.check_time_entry(rule, arrival, departure)
        if not check.ok:
            errors.extend(f"{label} : {e}" for e in check.errors)
            continue
        basket.put(
            BasketItem(
                person_id,
                activity_id,
                entry.activity_day_id,
                day,
                DraftAction.BOOK,
                arrival,
                departure,
            )
        )
    return errors


# --- copy ("Importer") -----------------------------------------------------------------


async def copy_days(
    scope: BookingScope,
    basket: Basket,
    *,
    source_person_id: int,
    source_activity_id: int,
    start: date,
    end: date,
    target_person_id: int,
    target_activity_id: int,
    now: datetime | None = None,
) -> copy_plan.CopyPlan:
    """Draft onto the target what the source has over the period; report what cannot be."""
    now = now or clock.utcnow()
    if end < start:
        raise BookingError("La fin de la période est avant son début.")
    if (end - start).days > 366:
        raise BookingError("La période à copier ne peut pas dépasser un an.")
    if (source_person_id, source_activity_id) == (target_person_id, target_activity_id):
        raise BookingError("Choisissez une autre personne ou une autre activité comme destination.")
    for person_id, activity_id in (
        (source_person_id, source_activity_id),
        (target_person_id, target_activity_id),
    ):
        scope.person(person_id)
        if activity_id not in scope.enrolled.get(person_id, []):
            raise BookingError("Cette activité n'est pas accessible à cet enfant.")
    check_may_book(scope, target_person_id, target_activity_id)
    source = await day_views(scope, source_person_id, [source_activity_id], start, end, basket, now)
    source_by_day = {day: entry for (_, day), entry in source.items()}
    days = copy_plan.source_days({d: e.view for d, e in source_by_day.items()}, start, end)
    target_activity = scope.activities[target_activity_id]
    times = {day: _copied_range(source_by_day[day], target_activity) for day in days}
    return await draft_requests(
        scope, basket, target_person_id, target_activity_id, times, start, end, now
    )


async def draft_requests(
    scope: BookingScope,
    basket: Basket,
    person_id: int,
    activity_id: int,
    times: dict[date, hours.TimeRange],
    start: date,
    end: date,
    now: datetime,
) -> copy_plan.CopyPlan:
    """Draft bookings of these days (with their hours) for one person and activity.

    Every day goes through the rules of ``copy_plan`` (already booked, closed, late, no
    place, incompatible with the person's other bookings and drafts); the others are
    reported. Shared by "Importer" and the "semaine type".
    """
    target_activity = scope.activities[activity_id]
    requests = [copy_plan.CopyRequest(day, time_range) for day, time_range in times.items()]
    target = await day_views(scope, person_id, [activity_id], start, end, basket, now)
    target_by_day = {day: entry for (_, day), entry in target.items()}
    others = await day_views(
        scope,
        person_id,
        [a for a in scope.enrolled.get(person_id, []) if a != activity_id],
        start,
        end,
        basket,
        now,
    )
    busy: dict[date, list[hours.TimeRange]] = defaultdict(list)
    for (_, day), entry in others.items():
        if entry.view.effectively_booked:
            busy[day].append(entry.activity.time_range(entry.arrival, entry.departure))
    plan = copy_plan.plan_copy(requests, {d: e.view for d, e in target_by_day.items()}, busy)
    for change in plan.changes:
        entry = target_by_day[change.day]
        if change.draft is None:
            basket.remove(person_id, entry.activity_day_id)
            continue
        time_range = times[change.day]
        basket.put(
            BasketItem(
                person_id,
                activity_id,
                entry.activity_day_id,
                change.day,
                DraftAction.BOOK,
                time_range.start if target_activity.time_entry else None,
                time_range.end if target_activity.time_entry else None,
            )
        )
    return plan


def widest_range(activity: ActivityInfo) -> hours.TimeRange:
    """The hours of a day asked with no times of its own: the activity's, or for a
    time-entry activity the widest stay it allows."""
    if not activity.time_entry:
        return activity.time_range(None, None)
    return hours.TimeRange(activity.arrivals[0], activity.departures[-1])


def _copied_range(source: ActivityDayView, target: ActivityInfo) -> hours.TimeRange:
    """The hours a copied day takes on the target activity."""
    if not target.time_entry:
        return target.time_range(None, None)
    if source.activity.time_entry and source.arrival and source.departure:
        return hours.TimeRange(source.arrival, source.departure)
    # From a plain activity onto a time-entry one: the widest allowed stay.
    return widest_range(target)
