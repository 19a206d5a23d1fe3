"""Pure rules of deadline reminders: "Vous n'avez rien réservé pour la semaine du 14/12 :
vous avez jusqu'à jeudi 10:00".

For one child, one activity the family uses and one week: the reminder is due when the
week has bookable days (open, booking opened, deadline not passed, a place or a waitlist
place left), the child has nothing booked or requested in that week, and the first
deadline of those days is within the account's lead time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from portal.domain.french_dates import WEEKDAYS

# An activity "used" by a child: booked (any request) at least once within this many days.
USED_WITHIN_DAYS = 60
# Weeks looked at: this one and the next ones (a lead time is at most a week).
WEEKS_AHEAD = 3


@dataclass(frozen=True)
class DayFacts:
    day: date
    is_open: bool
    deadline_at: datetime  # aware UTC: booking closes at this instant
    opens_at: datetime | None = None
    capacity: int | None = None
    waitlist_capacity: int | None = 0
    accepted: int = 0
    waitlisted: int = 0

    def bookable(self, now: datetime) -> bool:
        if not self.is_open or now >= self.deadline_at:
            return False
        if self.opens_at is not None and now < self.opens_at:
            return False
        if self.capacity is None or self.accepted < self.capacity:
            return True
        return self.waitlist_capacity is None or self.waitlisted < self.waitlist_capacity


@dataclass(frozen=True)
class Due:
    week_start: date
    deadline_at: datetime
    bookable_days: int


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_to_check(today: date) -> list[date]:
    first = week_start(today)
    return [first + timedelta(weeks=n) for n in range(WEEKS_AHEAD)]


def reminder_due(
    now: datetime,
    lead: timedelta,
    week: date,
    days: Sequence[DayFacts],
    booked_in_week: bool,
) -> Due | None:
    """The reminder for this week, when it is due now; None otherwise."""
    if booked_in_week:
        return None
    bookable = [d for d in days if week_start(d.day) == week and d.bookable(now)]
    if not bookable:
        return None
    first_deadline = min(d.deadline_at for d in bookable)
    if now < first_deadline - lead:
        return None
    return Due(week, first_deadline, len(bookable))


def deadline_words(deadline_at: datetime, now: datetime, tz: ZoneInfo) -> str:
    """ "jeudi 10:00" within the coming week, "jeudi 17/12 10:00" further away."""
    local = deadline_at.astimezone(tz)
    weekday = WEEKDAYS[local.weekday()]
    if local.date() == now.astimezone(tz).date():
        return f"aujourd'hui {local:%H:%M}"
    if (local.date() - now.astimezone(tz).date()).days < 7:
        return f"{weekday} {local:%H:%M}"
    return f"{weekday} {local:%d/%m} {local:%H:%M}"


def sentence(week: date, deadline_at: datetime, now: datetime, tz: ZoneInfo) -> str:
    return (
        f"Vous n'avez rien réservé pour la semaine du {week:%d/%m} : vous avez jusqu'à "
        f"{deadline_words(deadline_at, now, tz)}"
    )
