"""Statements, tax and attendance certificates on plain values."""

from __future__ import annotations

from datetime import date

import pytest

from portal.domain.papers import rules
from portal.domain.papers.rules import Category, LedgerLine


def _consumption(
    entry_id: int,
    day: date,
    cents: int,
    person: int = 1,
    activity: int = 10,
    name: str = "Paolo DUPONT",
    activity_name: str = "ALSH",
) -> LedgerLine:
    return LedgerLine(
        entry_id, day, cents, activity_name, None, person, name, activity, activity_name, 1
    )


def _payment(entry_id: int, day: date, cents: int) -> LedgerLine:
    return LedgerLine(entry_id, day, cents, "Règlement", "CHEQUE", piece_number="0001")


def test_statement_opening_closing_and_groups() -> None:
    lines = [
        _consumption(1, date(2026, 10, 30), -500),
        _payment(2, date(2026, 10, 31), 2000),
        _consumption(3, date(2026, 11, 2), -420),
        _consumption(4, date(2026, 11, 3), -420),
        _consumption(5, date(2026, 11, 3), 420),  # a reversal gives the day back
        _consumption(6, date(2026, 11, 4), -310, activity=11, activity_name="Restauration"),
        _payment(7, date(2026, 11, 15), 1000),
        LedgerLine(8, date(2026, 11, 20), -150, "Régularisation"),
        _consumption(9, date(2026, 12, 1), -999),  # after the month: not on the statement
    ]
    s = rules.statement(lines, date(2026, 11, 1), date(2026, 11, 30))
    assert s.opening_cents == 1500
    assert [(g.activity_name, g.quantity, g.charged_cents) for g in s.consumptions] == [
        ("ALSH", 1, 420),
        ("Restauration", 1, 310),
    ]
    assert s.consumption_total_cents == 730
    assert s.payment_total_cents == 1000
    assert s.other_total_cents == -150
    assert s.closing_cents == 1500 - 730 + 1000 - 150
    # The closing balance is the ledger's sum up to the end of the month.
    assert s.closing_cents == sum(line.amount_cents for line in lines if line.entry_id != 9)


@pytest.mark.parametrize(
    ("birth", "year", "eligible"),
    [
        (date(2019, 1, 2), 2025, True),
        (date(2019, 1, 1), 2025, False),  # 6 years old on 1 January
        (date(2018, 6, 1), 2025, False),
        (date(2025, 5, 1), 2025, True),  # born during the year
        (None, 2025, False),
    ],
)
def test_under_six_on_first_january(birth: date | None, year: int, eligible: bool) -> None:
    assert rules.under_six_on_first_january(birth, year) is eligible


def test_tax_certificate_counts_garde_and_itemises_meals_apart() -> None:
    children = [
        rules.Child(1, "Amalia DUPONT", date(2021, 3, 4)),
        rules.Child(2, "Paolo DUPONT", date(2018, 3, 4)),  # too old
    ]
    categories = {10: Category.GARDE, 11: Category.REPAS, 12: Category.AUTRE}
    lines = [
        _consumption(1, date(2025, 3, 1), -800, person=1, activity=10),
        _consumption(2, date(2025, 3, 2), -800, person=1, activity=10),
        _consumption(3, date(2025, 3, 2), 800, person=1, activity=10),  # reversed
        _consumption(4, date(2025, 3, 2), -420, person=1, activity=11),
        _consumption(5, date(2025, 3, 2), -2000, person=1, activity=12),
        _consumption(6, date(2025, 3, 2), -800, person=2, activity=10),
        _consumption(7, date(2024, 12, 31), -800, person=1, activity=10),  # other year
    ]
    c = rules.tax_certificate(2025, children, lines, categories)
    assert [(x.name, x.garde_cents, x.repas_cents, x.garde_days) for x in c.children] == [
        ("Amalia DUPONT", 800, 420, 1)
    ]
    assert c.deductible_total_cents == 800
    assert c.repas_total_cents == 420


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("Restauration Scolaire", Category.REPAS),
        ("Accueil Matin 1/2 heure", Category.GARDE),
        ("3-6 ans - Mercredi Matin", Category.GARDE),
        ("ALSH vacances", Category.GARDE),
        ("Repas ALSH", Category.REPAS),
        ("Cours de piano", Category.AUTRE),
    ],
)
def test_default_category(name: str, category: Category) -> None:
    assert rules.default_category(name) is category


def test_attendance_certificate_counts_days_in_period() -> None:
    attended = [
        rules.Attendance(1, date(2026, 11, 2), "ALSH"),
        rules.Attendance(2, date(2026, 11, 3), "ALSH"),
        rules.Attendance(3, date(2026, 11, 3), "Restauration"),
        rules.Attendance(4, date(2026, 12, 3), "ALSH"),
    ]
    c = rules.attendance_certificate(
        "Paolo DUPONT", None, date(2026, 11, 1), date(2026, 11, 30), attended, {1: 800, 2: 800}
    )
    assert [(a.activity_name, len(a.days), a.charged_cents) for a in c.activities] == [
        ("ALSH", 2, 1600),
        ("Restauration", 1, 0),
    ]
    assert c.day_count == 2
    assert c.presence_count == 3


def test_period_checks() -> None:
    today = date(2026, 12, 1)
    with pytest.raises(rules.PeriodError):
        rules.check_period(date(2026, 11, 2), date(2026, 11, 1), today)
    with pytest.raises(rules.PeriodError):
        rules.check_period(date(2026, 12, 2), date(2026, 12, 3), today)
    with pytest.raises(rules.PeriodError):
        rules.check_period(date(2020, 1, 1), date(2026, 11, 1), today)
    rules.check_period(date(2026, 11, 1), date(2026, 11, 30), today)


def test_receipt_number_and_slug() -> None:
    assert rules.receipt_number(123, date(2026, 11, 5)) == "2026-000123"
    assert rules.file_slug("DUPONT Jean-Paul / Élise") == "dupont-jean-paul-elise"
