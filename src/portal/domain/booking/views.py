"""The month calendar and the day list: one DayView per activity and day for a person."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from portal import clock
from portal.db import placeholders
from portal.domain.booking import deadlines, opening
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
from portal.tables import ActivityDay

# --- calendar ------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityDayView:
    activity: ActivityInfo
    activity_day_id: int
    view: DayView
    arrival: time | None = None  # of the person's reservation or draft
    departure: time | None = None
    waitlist_rank: int | None = None
    # A booking period's word on the day: « ouverture le lundi 12/01 à 08:30 », or the
    # person's request « en attente du tirage au sort du 14/01 ».
    period_note: str | None = None
    period_id: int | None = None
    period_name: str | None = None
    request_note: str | None = None


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

    @property
    def period_notes(self) -> list[tuple[int, str, str]]:
        """Each booking period of the month's days: id, name, word (« ouverture le ... »)."""
        seen: dict[int, tuple[str, str]] = {}
        for week in self.weeks:
            for cell in week:
                for entry in cell.entries:
                    if entry.period_id is not None and entry.period_note and cell.in_month:
                        seen.setdefault(
                            entry.period_id, (entry.period_name or "", entry.period_note)
                        )
        return [(period_id, name, note) for period_id, (name, note) in sorted(seen.items())]


def month_grid(year: int, month: int) -> list[list[date]]:
    return calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)


@dataclass(frozen=True)
class DayRow:
    """An activity day and the person's own reservation of it, as the calendar reads them."""

    activity_day_id: int
    activity_id: int
    day: date
    is_open: bool
    capacity: int | None
    waitlist_capacity: int | None
    accepted_count: int
    waitlisted_count: int
    status: str | None
    waitlist_rank: int | None
    arrival: time | None
    departure: time | None
    # The parent declared the child absent (« enfant malade ») on this reservation.
    absence_declared: bool = False


@dataclass(frozen=True)
class DayRows:
    """What the calendar reads of the register for some days: the days with the person's
    reservations, the booking periods over them and the person's requests waiting for an
    allocation."""

    rows: tuple[DayRow, ...]
    periods: tuple[opening.OpeningPeriod, ...] = ()
    waiting: dict[int, int] = field(default_factory=dict)


async def load_day_rows(
    scope: BookingScope, person_id: int, activity_ids: Sequence[int], start: date, end: date
) -> DayRows:
    """Every (activity, day) between start and end with the person's shown reservation, in
    one query: taps and pages read it on every request, and Piccolo's query building of the
    two ORM queries it replaces cost more than running them."""
    if not activity_ids:
        return DayRows(())
    statuses = sorted(SHOWN_STATUSES)
    rows = await ActivityDay.raw(
        # Only placeholders are formatted in: every value is a bound parameter.
        "SELECT d.id, d.activity, d.day, d.is_open, d.capacity, d.waitlist_capacity,"  # noqa: S608
        " d.accepted_count, d.waitlisted_count, r.status, r.waitlist_rank, r.arrival,"
        " r.departure, EXISTS (SELECT 1 FROM absence_declaration a"
        " WHERE a.reservation = r.id) AS absence_declared"
        " FROM activity_day d LEFT JOIN reservation r ON r.activity_day = d.id"
        f" AND r.person = {{}} AND r.status IN ({placeholders(len(statuses))})"
        f" WHERE d.activity IN ({placeholders(len(activity_ids))})"
        " AND d.day >= {} AND d.day <= {} ORDER BY d.id",
        person_id,
        *statuses,
        *activity_ids,
        start,
        end,
    )
    days = tuple(
        DayRow(
            activity_day_id=int(r["id"]),
            activity_id=int(r["activity"]),
            day=clock.as_date(r["day"]),
            is_open=bool(r["is_open"]),
            capacity=r["capacity"],
            waitlist_capacity=r["waitlist_capacity"],
            accepted_count=int(r["accepted_count"]),
            waitlisted_count=int(r["waitlisted_count"]),
            status=r["status"],
            waitlist_rank=r["waitlist_rank"],
            arrival=clock.as_time(r["arrival"]),
            departure=clock.as_time(r["departure"]),
            absence_declared=bool(r["absence_declared"]),
        )
        for r in rows
    )
    if not days:
        return DayRows(())
    periods = opening.periods_covering(scope.periods, activity_ids, start, end)
    waiting = (
        await opening.waiting_days(person_id, [d.activity_day_id for d in days]) if periods else {}
    )
    return DayRows(days, tuple(periods), waiting)


def views_of_rows(
    scope: BookingScope,
    person_id: int,
    loaded: DayRows,
    basket: Basket,
    now: datetime,
) -> dict[tuple[int, date], ActivityDayView]:
    """The views of loaded day rows with the basket as it is now (no database access: a tap
    computes the views before and after its change from one read)."""
    periods, waiting = loaded.periods, loaded.waiting
    result: dict[tuple[int, date], ActivityDayView] = {}
    for row in loaded.rows:
        activity = scope.activities[row.activity_id]
        draft_item = basket.get(person_id, row.activity_day_id)
        period = opening.find(periods, activity.id, row.day) if periods else None
        own_status = ReservationStatus(row.status) if row.status else None
        # A clerk's explicit override (on a family's behalf) opens late days and full ones.
        cancellation_open = scope.override.deadlines or deadlines.is_cancellation_open(
            now, activity.cancellation_rule, row.day, scope.tz
        )
        note = request_note = None
        if period is None:
            booking_open = deadlines.is_booking_open(
                now, activity.opens_at, activity.booking_rule, row.day, scope.tz
            )
        else:
            # The period's opening replaces the activity's; before it, days can be drafted.
            booking_open = period.phase(now) is not opening.Phase.ALLOCATING and (
                deadlines.is_booking_open(now, None, activity.booking_rule, row.day, scope.tz)
            )
            note = opening.opening_note(period, now, scope.tz)
            if row.activity_day_id in waiting and own_status is None:
                # A request waiting for the allocation: shown as asked; it can be withdrawn
                # while the window is open.
                own_status = ReservationStatus.WAITLISTED
                cancellation_open = cancellation_open and period.phase(now) is opening.Phase.WINDOW
                request_note = opening.waiting_label(period, scope.tz)
        facts = DayFacts(
            day=row.day,
            is_open=row.is_open,
            booking_open=scope.override.deadlines or booking_open,
            cancellation_open=cancellation_open,
            capacity=None if scope.override.capacity else row.capacity,
            waitlist_capacity=row.waitlist_capacity,
            accepted_count=row.accepted_count,
            waitlisted_count=row.waitlisted_count,
            own_status=own_status,
            draft=draft_item.action if draft_item else None,
            absence_declared=row.absence_declared,
        )
        view = day_view(facts)
        if view.stale_draft is not None:
            basket.remove(person_id, row.activity_day_id)
        arrival = draft_item.arrival if draft_item and view.draft else None
        departure = draft_item.departure if draft_item and view.draft else None
        if row.status and not arrival:
            arrival, departure = row.arrival, row.departure
        result[(activity.id, row.day)] = ActivityDayView(
            activity=activity,
            activity_day_id=row.activity_day_id,
            view=view,
            arrival=arrival,
            departure=departure,
            waitlist_rank=row.waitlist_rank if row.status else None,
            period_note=note,
            period_id=period.id if period else None,
            period_name=period.name if period else None,
            request_note=request_note,
        )
    return result


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
    loaded = await load_day_rows(scope, person_id, activity_ids, start, end)
    return views_of_rows(scope, person_id, loaded, basket, now)


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
    rows: DayRows | None = None,
) -> list[CalendarCell]:
    """The calendar cells of some days of one activity: what a tap changed, without the
    rest of the month. ``rows``: the tap's own read of those days (a tap writes only the
    basket, so the register has not changed since)."""
    now = now or clock.utcnow()
    wanted = sorted(set(days))
    if not wanted:
        return []
    if rows is None:
        rows = await load_day_rows(scope, person_id, [activity_id], wanted[0], wanted[-1])
    views = views_of_rows(scope, person_id, rows, basket, now)
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
