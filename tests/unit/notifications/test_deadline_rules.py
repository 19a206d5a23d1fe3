"""When a deadline reminder is due, and what it says."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from portal.domain.deadline_reminders import rules
from portal.domain.deadline_reminders.rules import DayFacts

PARIS = ZoneInfo("Europe/Paris")
WEEK = date(2026, 12, 14)  # a Monday
# Canteen booked by the Thursday before at 10:00 (09:00 UTC in December).
DEADLINE = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
LEAD = timedelta(hours=48)


def _week(**overrides: object) -> list[DayFacts]:
    values: dict[str, object] = {"is_open": True, "deadline_at": DEADLINE}
    values.update(overrides)
    return [DayFacts(day=WEEK + timedelta(days=n), **values) for n in (0, 1, 3, 4)]  # type: ignore[arg-type]


def test_due_within_the_lead_time_only() -> None:
    before = DEADLINE - LEAD - timedelta(minutes=1)
    assert rules.reminder_due(before, LEAD, WEEK, _week(), booked_in_week=False) is None
    due = rules.reminder_due(DEADLINE - LEAD, LEAD, WEEK, _week(), booked_in_week=False)
    assert due == rules.Due(WEEK, DEADLINE, 4)


def test_not_due_when_something_is_booked_that_week() -> None:
    now = DEADLINE - timedelta(hours=1)
    assert rules.reminder_due(now, LEAD, WEEK, _week(), booked_in_week=True) is None


def test_not_due_without_bookable_days() -> None:
    now = DEADLINE - timedelta(hours=1)
    assert rules.reminder_due(now, LEAD, WEEK, _week(is_open=False), False) is None
    assert rules.reminder_due(DEADLINE, LEAD, WEEK, _week(), False) is None  # too late
    opens = DEADLINE - timedelta(minutes=30)
    assert rules.reminder_due(now, LEAD, WEEK, _week(opens_at=opens), False) is None
    full = _week(capacity=10, accepted=10, waitlist_capacity=0)
    assert rules.reminder_due(now, LEAD, WEEK, full, False) is None
    waitlist_left = _week(capacity=10, accepted=10, waitlist_capacity=None)
    assert rules.reminder_due(now, LEAD, WEEK, waitlist_left, False) is not None


def test_days_of_other_weeks_do_not_count() -> None:
    now = DEADLINE - timedelta(hours=1)
    other_week = WEEK + timedelta(weeks=1)
    assert rules.reminder_due(now, LEAD, other_week, _week(), False) is None


def test_the_first_deadline_of_the_week_is_the_one_told() -> None:
    later = DEADLINE + timedelta(days=2)
    days = [
        DayFacts(WEEK, True, DEADLINE - timedelta(days=1)),  # already closed
        DayFacts(WEEK + timedelta(days=2), True, later),
        DayFacts(WEEK + timedelta(days=3), True, later + timedelta(days=1)),
    ]
    due = rules.reminder_due(DEADLINE, LEAD, WEEK, days, False)
    assert due is not None and due.deadline_at == later and due.bookable_days == 2


def test_the_sentence_of_the_issue() -> None:
    now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    assert rules.sentence(WEEK, DEADLINE, now, PARIS) == (
        "Vous n'avez rien réservé pour la semaine du 14/12 : vous avez jusqu'à jeudi 10:00"
    )
    far = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert rules.sentence(WEEK, DEADLINE, far, PARIS).endswith("jeudi 10/12 10:00")
    same_day = datetime(2026, 12, 10, 6, 0, tzinfo=UTC)
    assert rules.sentence(WEEK, DEADLINE, same_day, PARIS).endswith("aujourd'hui 10:00")


def test_weeks_looked_at() -> None:
    assert rules.weeks_to_check(date(2026, 12, 9)) == [
        date(2026, 12, 7),
        date(2026, 12, 14),
        date(2026, 12, 21),
    ]
