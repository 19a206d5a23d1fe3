"""The month calendar and the day list: one DayView per activity and day for a person."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from portal import clock
from portal.domain.booking import deadlines
from portal.domain.booking.basket import Basket
from portal.domain.booking.scope import SHOWN_STATUSES, ActivityInfo, BookingScope
from portal.domain.booking.states import (
    AggregateState,
    DayFacts,
    DayView,
    ReservationStatus,
    aggregate_state,
    day_view,
)
from portal.tables import (
    AbsenceDeclaration,
    ActivityDay,
    Reservation,
)

# --- calendar ------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityDayView:
    activity: ActivityInfo
    activity_day_id: int
    view: DayView
    arrival: time | None = None  # of the person's reservation or draft
    departure: time | None = None
    waitlist_rank: int | None = None


@dataclass(frozen=True)
class CalendarCell:
    day: date
    in_month: bool
    is_today: bool
    entries: tuple[ActivityDayView, ...]  # one per activity offered that day
    aggregate: AggregateState | None
    has_drafts: bool

    @property
    def single(self) -> ActivityDayView | None:
        return self.entries[0] if len(self.entries) == 1 else None


@dataclass(frozen=True)
class MonthView:
    year: int
    month: int
    weeks: list[list[CalendarCell]]

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)


def month_grid(year: int, month: int) -> list[list[date]]:
    return calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)


async def day_views(
    scope: BookingScope,
    person_id: int,
    activity_ids: Sequence[int],
    start: date,
    end: date,
    basket: Basket,
    now: datetime,
) -> dict[tuple[int, date], ActivityDayView]:
    """The view of every (activity, day) between start and end for one person."""
    if not activity_ids:
        return {}
    days = await ActivityDay.objects().where(
        ActivityDay.activity.is_in(list(activity_ids))
        & (ActivityDay.day >= start)
        & (ActivityDay.day <= end)
    )
    if not days:
        return {}
    own = {
        int(r.activity_day): r
        for r in await Reservation.objects().where(
            (Reservation.person == person_id)
            & Reservation.activity_day.is_in([d.id for d in days])
            & Reservation.status.is_in(list(SHOWN_STATUSES))
        )
    }
    # Absences declared by the parent ("enfant malade") on these reservations.
    absent = (
        {
            int(r["reservation"])
            for r in await AbsenceDeclaration.select(AbsenceDeclaration.reservation).where(
                AbsenceDeclaration.reservation.is_in([r.id for r in own.values()])
            )
        }
        if own
        else set()
    )
    result: dict[tuple[int, date], ActivityDayView] = {}
    for row in days:
        activity = scope.activities[int(row.activity)]
        reservation = own.get(row.id)
        draft_item = basket.get(person_id, row.id)
        facts = DayFacts(
            day=row.day,
            is_open=row.is_open,
            booking_open=deadlines.is_booking_open(
                now, activity.opens_at, activity.booking_rule, row.day, scope.tz
            ),
            cancellation_open=deadlines.is_cancellation_open(
                now, activity.cancellation_rule, row.day, scope.tz
            ),
            capacity=row.capacity,
            waitlist_capacity=row.waitlist_capacity,
            accepted_count=row.accepted_count,
            waitlisted_count=row.waitlisted_count,
            own_status=ReservationStatus(reservation.status) if reservation else None,
            draft=draft_item.action if draft_item else None,
            absence_declared=reservation is not None and reservation.id in absent,
        )
        view = day_view(facts)
        if view.stale_draft is not None:
            basket.remove(person_id, row.id)
        arrival = draft_item.arrival if draft_item and view.draft else None
        departure = draft_item.departure if draft_item and view.draft else None
        if reservation and not arrival:
            arrival, departure = reservation.arrival, reservation.departure
        result[(activity.id, row.day)] = ActivityDayView(
            activity=activity,
            activity_day_id=row.id,
            view=view,
            arrival=arrival,
            departure=departure,
            waitlist_rank=reservation.waitlist_rank if reservation else None,
        )
    return result


async def month_view(
    scope: BookingScope,
    person_id: int,
    activity_id: int | None,
    year: int,
    month: int,
    basket: Basket,
    now: datetime | None = None,
) -> MonthView:
    now = now or clock.utcnow()
    scope.person(person_id)
    grid = month_grid(year, month)
    activities = scope.activities_of(person_id)
    if activity_id is not None:
        activities = [a for a in activities if a.id == activity_id]
    views = await day_views(
        scope, person_id, [a.id for a in activities], grid[0][0], grid[-1][-1], basket, now
    )
    today = now.astimezone(scope.tz).date()
    weeks = []
    for week in grid:
        cells = []
        for day in week:
            entries = tuple(views[(a.id, day)] for a in activities if (a.id, day) in views)
            cells.append(
                CalendarCell(
                    day=day,
                    in_month=day.month == month,
                    is_today=day == today,
                    entries=entries,
                    aggregate=aggregate_state(e.view for e in entries) if entries else None,
                    has_drafts=any(e.view.draft for e in entries),
                )
            )
        weeks.append(cells)
    return MonthView(year, month, weeks)


async def cells_of(
    scope: BookingScope,
    person_id: int,
    activity_id: int,
    days: Sequence[date],
    basket: Basket,
    now: datetime | None = None,
) -> list[CalendarCell]:
    """The calendar cells of some days of one activity: what a tap changed, without the
    rest of the month."""
    now = now or clock.utcnow()
    wanted = sorted(set(days))
    if not wanted:
        return []
    views = await day_views(scope, person_id, [activity_id], wanted[0], wanted[-1], basket, now)
    today = now.astimezone(scope.tz).date()
    cells = []
    for day in wanted:
        entries = (views[(activity_id, day)],) if (activity_id, day) in views else ()
        cells.append(
            CalendarCell(
                day=day,
                in_month=True,
                is_today=day == today,
                entries=entries,
                aggregate=aggregate_state(e.view for e in entries) if entries else None,
                has_drafts=any(e.view.draft for e in entries),
            )
        )
    return cells


async def day_entries(
    scope: BookingScope, person_id: int, day: date, basket: Basket, now: datetime | None = None
) -> list[ActivityDayView]:
    """Every activity of the person on one day (the list shown when no activity is selected)."""
    now = now or clock.utcnow()
    activities = scope.activities_of(person_id)
    views = await day_views(scope, person_id, [a.id for a in activities], day, day, basket, now)
    entries = [views[(a.id, day)] for a in activities if (a.id, day) in views]
    # In time order, as the day goes (morning care, canteen, evening care).
    return sorted(entries, key=lambda e: (e.activity.start_time, e.activity.end_time))
