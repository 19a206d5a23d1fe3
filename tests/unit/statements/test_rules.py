"""When the monthly statements are e-mailed."""

from __future__ import annotations

from datetime import date

from portal.domain.money.rules import Month
from portal.domain.statements import rules


def test_the_past_month_is_due_on_the_first() -> None:
    assert rules.month_to_mail(date(2026, 12, 1), "") == Month(2026, 11)
    assert rules.month_to_mail(date(2026, 12, 1), "2026-10") == Month(2026, 11)
    assert rules.month_to_mail(date(2027, 1, 1), "2026-11") == Month(2026, 12)


def test_once_mailed_or_past_the_catch_up_window_nothing_is_due() -> None:
    assert rules.month_to_mail(date(2026, 12, 1), "2026-11") is None
    assert rules.month_to_mail(date(2026, 12, 2), "2026-11") is None
    # Workers down on the 1st: the next days of the window still send.
    assert rules.month_to_mail(date(2026, 12, rules.CATCH_UP_DAYS), "2026-10") == Month(2026, 11)
    assert rules.month_to_mail(date(2026, 12, rules.CATCH_UP_DAYS + 1), "2026-10") is None
    assert rules.month_to_mail(date(2026, 12, 15), "") is None


def test_opting_in_never_mails_the_same_day() -> None:
    for today in (date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 20)):
        recorded = rules.first_month_after_opt_in(today)
        assert rules.month_to_mail(today, recorded) is None
        assert rules.month_to_mail(date(2027, 1, 1), recorded) == Month(2026, 12)


def test_one_key_per_family_wallet_and_month() -> None:
    keys = {
        rules.dedupe_key(1, 2, Month(2026, 11)),
        rules.dedupe_key(1, 3, Month(2026, 11)),
        rules.dedupe_key(2, 2, Month(2026, 11)),
        rules.dedupe_key(1, 2, Month(2026, 12)),
    }
    assert len(keys) == 4
    assert rules.dedupe_key(1, 2, Month(2026, 11)) == "statement:1:2:2026-11"
