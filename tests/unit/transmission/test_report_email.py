"""The report e-mail against the seed's layout (a golden string), and its HTML part."""

from __future__ import annotations

from datetime import date

from portal.domain.notifications.service import report_email
from portal.domain.transmission import rules
from portal.domain.transmission.rules import ReportMovement

APS, RESTO, ALSH = (
    (1, "APS MATIN", 1),
    (2, "RESTAURATION", 2),
    (3, "ALSH 6-12 - Mercredi Journée", 3),
)


def _movement(
    movement_id: int,
    reservation_id: int,
    kind: str,
    outcome: str,
    first_name: str,
    activity: tuple[int, str, int],
    day: date,
) -> ReportMovement:
    return ReportMovement(
        movement_id=movement_id,
        reservation_id=reservation_id,
        kind=kind,
        outcome=outcome,
        person_first_name=first_name,
        person_last_name="DUPONT",
        activity_id=activity[0],
        activity_name=activity[1],
        activity_position=activity[2],
        day=day,
    )


def _may(day: int) -> date:
    return date(2023, 5, day)


# Accepted, waitlisted, refused, cancelled (one booked and cancelled in the same period,
# reported once, as cancelled), pending, and a staff decision (not a request).
MOVEMENTS = [
    _movement(1, 11, "book", "accepted", "Paolo", APS, _may(9)),
    _movement(2, 12, "book", "accepted", "Paolo", APS, _may(10)),
    _movement(3, 13, "book", "accepted", "Paolo", APS, _may(11)),
    _movement(4, 14, "book", "accepted", "Amalia", APS, _may(9)),
    _movement(5, 15, "book", "waitlisted", "Amalia", APS, _may(16)),
    _movement(6, 16, "book", "waitlisted", "Amalia", APS, _may(15)),
    _movement(7, 17, "book", "refused", "Paolo", ALSH, _may(17)),
    _movement(8, 18, "cancel", "cancelled", "Amalia", APS, _may(5)),
    _movement(9, 19, "cancel", "cancelled", "Paolo", RESTO, _may(5)),
    _movement(10, 20, "book", "pending", "Amalia", ALSH, _may(24)),
    _movement(11, 21, "decision", "accepted", "Paolo", RESTO, _may(12)),
    _movement(12, 22, "book", "accepted", "Paolo", RESTO, _may(22)),
    _movement(13, 22, "cancel", "cancelled", "Paolo", RESTO, _may(22)),
]

GOLDEN = """\
M. DUPONT Jean-Paul

Veuillez trouver ci-dessous un compte rendu des modifications apportées à vos demandes de \
réservation sur la structure : Mairie de CarteVille.

- 12 mouvements sur vos demandes de réservations ont été reçus, dont :
  * 9 nouvelles demandes de réservation
  * 3 demandes d'annulation
- 5 réservations ont été acceptées
- 1 réservation est en attente de traitement par nos services
- 2 réservations ont été mises en liste d'attente
- 3 réservations ont été annulées
- 1 réservation a été refusée

***** RESERVATIONS MISES EN LISTE D'ATTENTE *****

--> Activité : APS MATIN :

DUPONT Amalia : lun. 15/05, mar. 16/05

***** RESERVATIONS ACCEPTEES *****

--> Activité : APS MATIN :

DUPONT Amalia : mar. 09/05
DUPONT Paolo : mar. 09/05, mer. 10/05, jeu. 11/05

--> Activité : RESTAURATION :

DUPONT Paolo : ven. 12/05

***** RESERVATIONS REFUSEES *****

--> Activité : ALSH 6-12 - Mercredi Journée :

DUPONT Paolo : mer. 17/05

***** RESERVATIONS ANNULEES *****

--> Activité : APS MATIN :

DUPONT Amalia : ven. 05/05

--> Activité : RESTAURATION :

DUPONT Paolo : ven. 05/05, lun. 22/05

***** RESERVATIONS EN ATTENTE DE TRAITEMENT *****

--> Activité : ALSH 6-12 - Mercredi Journée :

DUPONT Amalia : mer. 24/05

Vous pouvez consulter l'état de vos réservations sur notre site Internet.
http://testserver.local/
"""


def _render(movements: list[ReportMovement], family: str = "DUPONT Jean-Paul") -> tuple[str, str]:
    email = report_email(
        rules.build_family_report(movements),
        family_name=family,
        structure_name="Mairie de CarteVille",
        base_url="http://testserver.local",
    )
    return email.text, email.html


def test_report_text_follows_the_seed_layout() -> None:
    text, _ = _render(MOVEMENTS)
    assert text == GOLDEN


def test_report_of_decisions_only_has_no_request_count() -> None:
    # The seed's second example: staff decisions, no new request from the family.
    text, _ = _render(
        [
            _movement(1, 1, "decision", "refused", "Paolo", ALSH, _may(17)),
            _movement(2, 2, "decision", "accepted", "Paolo", ALSH, _may(24)),
        ]
    )
    assert "mouvement" not in text
    summary = text.split("\n\n")[2]
    assert summary == "- 1 réservation a été acceptée\n- 1 réservation a été refusée"


def test_report_counts_one_request_in_the_singular() -> None:
    text, _ = _render([_movement(1, 1, "book", "accepted", "Paolo", APS, _may(9))])
    assert (
        "- 1 mouvement sur vos demandes de réservations a été reçu, dont :\n"
        "  * 1 nouvelle demande de réservation\n"
        "- 1 réservation a été acceptée\n"
    ) in text
    assert "demande d'annulation" not in text


def test_report_html_has_every_section_and_escapes_names() -> None:
    _, html = _render(MOVEMENTS, family="DUPONT <Jean-Paul>")
    for title in rules.SECTION_TITLES.values():
        assert f">{title.replace(chr(39), '&#39;')}</h2>" in html
    assert "DUPONT &lt;Jean-Paul&gt;" in html
    assert "<strong>DUPONT Paolo</strong> : mar. 09/05, mer. 10/05, jeu. 11/05" in html
    assert 'href="http://testserver.local/"' in html
