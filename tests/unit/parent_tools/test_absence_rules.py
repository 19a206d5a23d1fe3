"""Enfant malade: when an absence may be declared, and what a decision does."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from portal.domain.absences import rules
from portal.domain.absences.rules import AbsenceError, AbsencePolicy, AbsenceStatus

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 12, 9)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def refusal(
    now: datetime, *, status: str = "accepted", declared: bool = False, **policy: object
) -> str | None:
    return rules.declaration_refusal(
        day=DAY,
        status=status,
        already_declared=declared,
        now_local=now,
        policy=AbsencePolicy(**policy),  # type: ignore[arg-type]
    )


def test_a_future_booked_day_can_be_declared_even_past_the_cancellation_deadline() -> None:
    # The day before at 20:00 is far past any "days:2@10:00" cancellation deadline.
    assert refusal(at(date(2026, 12, 8), 20)) is None


def test_same_morning_follows_the_structure_setting() -> None:
    assert refusal(at(DAY, 9, 29)) is None  # default: until 09:30
    assert refusal(at(DAY, 9, 30)) is None
    assert "avant 09:30" in (refusal(at(DAY, 9, 31)) or "")
    assert refusal(at(DAY, 10, 45), until=time(11, 0)) is None
    assert "le jour même" in (refusal(at(DAY, 7), same_morning=False) or "")


def test_past_days_other_statuses_and_second_declarations_are_refused() -> None:
    assert "passé" in (refusal(at(date(2026, 12, 10), 8)) or "")
    for status in ("waitlisted", "pending", "refused", "cancelled"):
        assert "accepté" in (refusal(at(date(2026, 12, 1), 8), status=status) or "")
    assert "déjà signalée" in (refusal(at(date(2026, 12, 1), 8), declared=True) or "")


def test_decisions_set_the_billing_flags_once() -> None:
    assert rules.decide(AbsenceStatus.DECLARED, True) is AbsenceStatus.JUSTIFIED
    assert rules.decide(AbsenceStatus.DECLARED, False) is AbsenceStatus.UNJUSTIFIED
    assert AbsenceStatus.JUSTIFIED.flags == (True, True)  # absent, not billed
    assert AbsenceStatus.UNJUSTIFIED.flags == (True, False)  # absent, billed
    assert AbsenceStatus.DECLARED.flags == (False, False)
    for done in (AbsenceStatus.JUSTIFIED, AbsenceStatus.UNJUSTIFIED):
        with pytest.raises(AbsenceError, match="déjà été traitée"):
            rules.decide(done, True)


def test_until_is_typed_within_the_morning() -> None:
    assert rules.parse_until("08:15") == time(8, 15)
    for bad in ("", "25:00", "huit heures", "05:59", "12:01"):
        with pytest.raises(AbsenceError):
            rules.parse_until(bad)
    policy = AbsencePolicy.from_minutes(True, 8 * 60 + 15)
    assert (policy.until, policy.until_minutes) == (time(8, 15), 495)


def test_notes_are_cleaned_and_bounded() -> None:
    assert rules.clean_note("  fièvre\n depuis hier ") == "fièvre depuis hier"
    with pytest.raises(AbsenceError):
        rules.clean_note("x" * 501)
