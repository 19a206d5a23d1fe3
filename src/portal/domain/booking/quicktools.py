"""Quick tools: toggle a whole week, every same weekday of a month, or a whole month.

Seed rule: if the first reservable day of the set is not booked, book every reservable day;
if it is booked, cancel every cancellable day. With drafts, "booked" means booked once the
basket is applied (``DayView.effectively_booked``) and "reservable" means a tap does
something (``DayView.can_toggle``). Booking a day drafted "à annuler" removes that draft;
cancelling a day drafted "à réserver" removes that draft. Hence:
- a set that was uniform (all booked, or none) returns to its exact basket when the tool
  is applied twice;
- a mixed set is made uniform by the first application (the seed rule wins), and from then
  on every second application undoes the previous one.
A single tap is the same tool on a one-day set.

Days missing from ``views`` are ignored: pass only the displayed month's views to keep a
week that straddles two months inside the month.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from portal.domain.booking.states import DayView, DraftAction


def week_of(anchor: date) -> list[date]:
    """Monday to Sunday of the week containing ``anchor``."""
    monday = anchor - timedelta(days=anchor.weekday())
    return [monday + timedelta(days=offset) for offset in range(7)]


def weekdays_of_month(year: int, month: int, weekday: int) -> list[date]:
    """Every ``weekday`` (0 = Monday) of the month."""
    return [day for day in month_days(year, month) if day.weekday() == weekday]


def month_days(year: int, month: int) -> list[date]:
    """Every day of the month."""
    length = calendar.monthrange(year, month)[1]
    return [date(year, month, number) for number in range(1, length + 1)]


class ToolAction(StrEnum):
    BOOK = "book"
    CANCEL = "cancel"
    NONE = "none"  # nothing in the set can be booked or cancelled


@dataclass(frozen=True)
class DraftChange:
    """New basket draft for one day; ``draft`` None removes the day's draft."""

    day: date
    draft: DraftAction | None


@dataclass(frozen=True)
class ToggleResult:
    action: ToolAction
    changes: tuple[DraftChange, ...]


def _make_booked(view: DayView) -> DraftChange | None:
    if view.effectively_booked:
        return None
    if view.draft is DraftAction.CANCEL:
        return DraftChange(view.day, None)
    return DraftChange(view.day, DraftAction.BOOK) if view.state.is_bookable else None


def _make_unbooked(view: DayView) -> DraftChange | None:
    if not view.effectively_booked:
        return None
    if view.draft is DraftAction.BOOK:
        return DraftChange(view.day, None)
    return DraftChange(view.day, DraftAction.CANCEL) if view.state.is_cancellable else None


def toggle(days: Iterable[date], views: Mapping[date, DayView]) -> ToggleResult:
    """Apply the seed rule to the set ``days`` and return the basket changes."""
    actionable = [views[day] for day in sorted(set(days)) if day in views and views[day].can_toggle]
    if not actionable:
        return ToggleResult(ToolAction.NONE, ())
    if actionable[0].effectively_booked:
        action, change_of = ToolAction.CANCEL, _make_unbooked
    else:
        action, change_of = ToolAction.BOOK, _make_booked
    changes = tuple(change for view in actionable if (change := change_of(view)) is not None)
    return ToggleResult(action, changes)


def apply_changes(
    drafts: Mapping[date, DraftAction], changes: Iterable[DraftChange]
) -> dict[date, DraftAction]:
    """The basket drafts (day -> action, for one person and activity) after ``changes``."""
    result = dict(drafts)
    for change in changes:
        if change.draft is None:
            result.pop(change.day, None)
        else:
            result[change.day] = change.draft
    return result


@dataclass(frozen=True)
class MonthTools:
    """What each quick tool of a month would do if tapped now (said on the tool itself)."""

    month: ToolAction
    weeks: tuple[ToolAction, ...]
    weekdays: tuple[ToolAction, ...]  # Monday first


def preview(views: Iterable[DayView | None]) -> ToolAction:
    """The action the seed rule takes on this set, without changing anything."""
    present = [v for v in views if v is not None]
    return toggle([v.day for v in present], {v.day: v for v in present}).action


def month_tools(weeks: Iterable[Iterable[tuple[date, bool, DayView | None]]]) -> MonthTools:
    """Previews of the month, each week and each weekday tool, from the displayed grid
    (day, in the month, the selected activity's view of that day or None)."""
    grid = [[(day, view if in_month else None) for day, in_month, view in week] for week in weeks]
    every = [view for week in grid for _, view in week]
    return MonthTools(
        month=preview(every),
        weeks=tuple(preview(view for _, view in week) for week in grid),
        weekdays=tuple(
            preview(view for week in grid for day, view in week if day.weekday() == weekday)
            for weekday in range(7)
        ),
    )
