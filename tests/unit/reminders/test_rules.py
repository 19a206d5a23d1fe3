"""The low-balance state machine, debt age and reminder templates."""

from __future__ import annotations

from datetime import date

import pytest

from portal.domain.reminders import rules
from portal.domain.reminders.rules import TemplateError


def test_alert_once_then_only_after_recovery() -> None:
    below, sent = False, 0
    for estimate in (500, -100, -300, -50, 0, 20, -10, -20):
        decision = rules.next_alert_state(below, estimate, 0)
        below, sent = decision.below, sent + decision.send
    assert sent == 2  # the first fall, then the fall after the recovery at 0
    assert rules.next_alert_state(True, 0, 0).recovered
    assert not rules.next_alert_state(False, 1999, 2000).recovered
    assert rules.next_alert_state(False, 1999, 2000).send


def test_debt_since_follows_the_running_balance() -> None:
    entries = [
        (date(2026, 10, 1), 1000),
        (date(2026, 10, 5), -1500),  # negative from here
        (date(2026, 10, 10), 600),  # back to +100
        (date(2026, 10, 20), -400),  # negative again from here
        (date(2026, 11, 2), -100),
    ]
    assert rules.debt_since(entries) == date(2026, 10, 20)
    assert rules.debt_since([(date(2026, 10, 1), 100)]) is None
    assert rules.in_debt_beyond(date(2026, 10, 20), date(2026, 11, 4), 15)
    assert not rules.in_debt_beyond(date(2026, 10, 20), date(2026, 11, 3), 15)
    assert not rules.in_debt_beyond(None, date(2026, 11, 3), 0)


def test_templates_are_checked_and_filled() -> None:
    subject, body = rules.check_template(" Relance  {famille} ", "Vous devez {montant}.\r\n")
    assert subject == "Relance {famille}" and body == "Vous devez {montant}."
    with pytest.raises(TemplateError, match="n'est pas un champ connu"):
        rules.check_template("Relance", "Bonjour {nom}")
    with pytest.raises(TemplateError, match="obligatoires"):
        rules.check_template("", "x")
    values = {"famille": "DUPONT", "montant": "12,00 €"}
    assert rules.fill("{famille} doit {montant} {depuis}", values) == "DUPONT doit 12,00 € {depuis}"
    for level, (subject, body) in rules.DEFAULT_TEMPLATES.items():
        rules.check_template(subject, body)
        assert level in (1, 2)
    assert (
        rules.next_level([]) == 1 and rules.next_level([1]) == 2 and rules.next_level([1, 2]) == 2
    )
