"""Labels of the printed tracking selection."""

from __future__ import annotations

from datetime import date

from portal.domain.booking.tracking_summary import filters_summary, period_label


def test_period_label_says_what_was_selected() -> None:
    assert period_label(date(2026, 12, 1), date(2026, 12, 31)) == "du 01/12/2026 au 31/12/2026"
    assert period_label(date(2026, 12, 1), None) == "à partir du 01/12/2026"
    assert period_label(None, date(2027, 1, 8)) == "jusqu'au 08/01/2027"
    assert period_label(None, None) == "toutes les dates"


def test_filters_summary_names_each_filter_or_says_none() -> None:
    everything = filters_summary(
        start=None, end=None, person=None, activity=None, types=None, transmission=None
    )
    assert everything["person_label"] == "toutes" and everything["types_label"] == "tous"
    assert everything["transmission_label"] == "transmises et non transmises"
    some = filters_summary(
        start=date(2026, 12, 1),
        end=None,
        person="Amalia",
        activity="Restauration Scolaire",
        types=["En liste d'attente", "Refusées"],
        transmission="Non transmises",
    )
    assert some["person_label"] == "Amalia"
    assert some["activity_label"] == "Restauration Scolaire"
    assert some["types_label"] == "en liste d'attente, refusées"
    assert some["transmission_label"] == "non transmises"
