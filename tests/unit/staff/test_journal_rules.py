"""Journal entries in French words."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from portal.domain.journal import rules

PARIS = ZoneInfo("Europe/Paris")


def test_values_read_as_words() -> None:
    assert rules.value_text("file_complete", True, PARIS) == "oui"
    assert rules.value_text("amount_cents", 123456, PARIS) == "1\u202f234,56\xa0€"
    assert rules.value_text("valid_from", "2026-12-01", PARIS) == "01/12/2026"
    assert rules.value_text("at", "2026-07-01T08:05:00+00:00", PARIS) == "01/07/2026 à 10:05"
    assert rules.value_text("mode", "ESPECES", PARIS) == "espèces"
    assert rules.value_text("roles", "agent,regisseur", PARIS) == "agent, régisseur"
    assert (
        rules.value_text("roles", {"Mairie": "agent,direction"}, PARIS)
        == "Mairie : agent, direction"
    )
    assert rules.value_text("weekdays", [0, 2], PARIS) == "lundi, mercredi"
    assert rules.value_text("title", None, PARIS) == "(vide)"
    assert rules.value_text("title", "2026-13-45 fête", PARIS) == "2026-13-45 fête"
    assert rules.value_text("body", "x" * 500, PARIS).endswith("…")


def test_changes_keep_before_and_after_per_field() -> None:
    found = rules.changes({"capacity": 10, "gone": "a"}, {"capacity": 12}, PARIS)
    assert [(c.field, c.before, c.after) for c in found] == [
        ("capacité", "10", "12"),
        ("gone", "a", ""),
    ]


def test_kinds_gather_actions() -> None:
    assert rules.kind_of("payment.record") == "reglements"
    assert rules.kind_of("enrolment.set") == "activites"
    assert rules.kind_of("enrolment.accept") == "inscriptions"
    assert rules.kind_of("unknown.thing") is None
    assert rules.kind_patterns("pirate") == ()
    assert rules.action_label("staff.disable") == "Compte du personnel désactivé"
    assert rules.action_label("new.action") == "new.action"
