"""Deadlines from French form fields to the stored code and back."""

from __future__ import annotations

import pytest

from portal.domain.booking.deadline_form import (
    PLACEHOLDER,
    compose,
    fields_of,
    submitted_fields,
    with_codes,
)

LABEL = "Délai de réservation"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"type": "jours", "jours": "2", "jour": "3", "heure": "10:00"}, "days:2@10:00"),
        ({"type": "jours_ouvres", "jours": "1", "jour": "0", "heure": "18:30"}, "workdays:1@18:30"),
        ({"type": "semaine_precedente", "jours": "", "jour": "3", "heure": "10h00"},
         "prevweek:thu@10:00"),
    ],
)  # fmt: skip
def test_fields_compose_the_stored_code_and_read_it_back(fields: dict[str, str], code: str) -> None:
    assert compose(fields, LABEL) == code
    back = fields_of(code)
    assert compose(back, LABEL) == code
    assert back["type"] == fields["type"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "x", "heure": "10:00"}, "choisissez le type de délai"),
        ({"type": "jours", "jours": "-1", "heure": "10:00"}, "entier de 0 à 366"),
        ({"type": "jours", "jours": "400", "heure": "10:00"}, "entier de 0 à 366"),
        ({"type": "jours", "jours": "2", "heure": "25:00"}, "l'heure limite"),
        ({"type": "semaine_precedente", "jour": "7", "heure": "10:00"}, "jour de la semaine"),
    ],
)
def test_wrong_fields_are_said_in_french(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compose(fields, LABEL)


def test_a_form_with_fields_gets_codes_and_one_without_keeps_its_code() -> None:
    labels = {"delai_reservation": LABEL, "delai_annulation": "Délai d'annulation"}
    data = {
        "delai_reservation_type": "semaine_precedente", "delai_reservation_jour": "3",
        "delai_reservation_heure": "10:00", "delai_reservation_jours": "",
        "delai_annulation": "days:1@08:00",
    }  # fmt: skip
    composed, errors = with_codes(data, labels)
    assert errors == []
    assert composed["delai_reservation"] == "prevweek:thu@10:00"
    assert composed["delai_annulation"] == "days:1@08:00"
    bad, errors = with_codes({**data, "delai_reservation_heure": ["midi"]}, labels)
    assert bad["delai_reservation"] == PLACEHOLDER
    assert errors == ["Délai de réservation : indiquez l'heure limite, par exemple 10:00."]
    assert submitted_fields(data, "delai_annulation") is None
    assert fields_of("nonsense")["type"] == "jours"
