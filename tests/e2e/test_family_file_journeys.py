"""The family file in a real browser on the demo (issue 14's journeys), at phone size: the
parent's side is meant for a phone, and the staff pages are the same at both sizes (their
layout is covered by the staff journeys).

- DURAND's file is incomplete (CAF attestation refused, Hugo's insurance being checked):
  the parent sends a new attestation from the phone, staff validate both documents, and the
  booking calendar is no longer read-only.
- DUPONT adds an allergy for Paolo: the parent sees the change waiting, staff validate it,
  and the kitchen list of a day Paolo is booked on shows it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.demo_family_file import sample_pdf
from portal.tables import Person, Reservation, Structure
from tests.e2e.conftest import Journey

pytestmark = [
    pytest.mark.parametrize("db", ["sqlite"], indirect=True),
    pytest.mark.parametrize("journey", ["phone"], indirect=True),
]


async def _main(journey: Journey) -> str:
    return await journey.page.locator("main").inner_text()


async def _structure_id() -> int:
    row = await Structure.select(Structure.id).where(Structure.slug == "carteville").first()
    assert row is not None
    return int(row["id"])


async def _staff_login(journey: Journey) -> None:
    page = journey.page
    await journey.goto("/gestion/connexion")
    await page.fill("#f-identifier", "gestion")
    await page.fill("#f-password", "Demo-Gestion-2026")
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()
    assert "Tableau de bord" in await _main(journey)


async def _parent_logout(journey: Journey) -> None:
    """Each person in their own session: the next login starts from clean cookies."""
    await journey.context.clear_cookies()


DURAND_PASSWORD = "Claire-Hugo-2026!"


async def _durand_first_login(journey: Journey) -> None:
    """DURAND's demo account has never been used: own password, RGPD and rules first."""
    page = journey.page
    await journey.login("durand", "Demo-Durand-2026")
    assert page.url.endswith("/premiere-connexion/mot-de-passe")
    await page.fill("#f-password", DURAND_PASSWORD)
    await page.fill("#f-password-confirm", DURAND_PASSWORD)
    await page.get_by_role("button", name="Enregistrer le mot de passe").click()
    await page.wait_for_url(re.compile("/premiere-connexion/conditions"))
    await page.get_by_label("J'ai pris connaissance de la notice RGPD").check()
    await page.get_by_label("J'ai lu et j'accepte les conditions générales").check()
    await page.get_by_role("button", name="Valider").click()
    await page.wait_for_url(re.compile("/premiere-connexion/reglement"))
    await page.get_by_label("J'atteste avoir pris connaissance").check()
    await page.fill("#f-place", "CarteVille")
    await page.get_by_role("button", name="Signer pour Hugo").click()
    await page.wait_for_load_state()
    assert "Bienvenue, DURAND Claire" in await _main(journey)


async def test_durand_sends_the_caf_attestation_and_booking_opens(
    journey: Journey, tmp_path: Path
) -> None:
    page = journey.page
    await _durand_first_login(journey)
    await journey.goto("/reservations")
    blocked = await _main(journey)
    assert "Il manque : Attestation CAF / quotient familial : refusé" in blocked
    assert await page.locator("#calendar-read-only").count() == 1
    await journey.shot("reservations-bloquees")

    await journey.goto("/dossier")
    text = await _main(journey)
    assert "Dossier incomplet" in text and "Refusé" in text
    assert "Attestation de plus de trois mois" in text
    attestation = tmp_path / "attestation-caf.pdf"
    attestation.write_bytes(sample_pdf("Attestation CAF DURAND - mois en cours"))
    await page.select_option("#f-type", label="Attestation CAF / quotient familial")
    await page.set_input_files("#f-fichier", str(attestation))
    await journey.shot("dossier-envoi")
    await page.get_by_role("button", name="Envoyer le document").click()
    await page.wait_for_load_state()
    documents = await page.locator("#documents").inner_text()
    assert "En cours de vérification" in documents
    assert "attestation-caf.pdf" in documents
    await journey.shot("dossier-envoye")

    # Staff: both of DURAND's documents are waiting; validate them with an end date.
    await _parent_logout(journey)
    await _staff_login(journey)
    sid = await _structure_id()
    await journey.goto(f"/gestion/s/{sid}/dossiers?liste=documents")
    await page.locator("main table").get_by_role("link", name=re.compile("DURAND")).first.click()
    await page.wait_for_load_state()
    pending = page.locator("#documents form")
    assert await pending.count() == 2
    while await pending.count():
        form = pending.first
        end = form.locator("input[type=date]")
        if await end.count():
            await end.fill("2027-08-31")
        await form.get_by_role("button", name=re.compile("^Valider")).click()
        await page.wait_for_load_state()
        assert "Document validé." in await _main(journey)
    await journey.shot("gestion-documents-valides")

    await _parent_logout(journey)
    await journey.login("durand", DURAND_PASSWORD)
    await journey.goto("/dossier")
    assert "Dossier complet" in await _main(journey)
    await journey.goto("/reservations")
    assert await page.locator("#calendar-read-only").count() == 0
    await journey.shot("reservations-ouvertes")


async def test_dupont_adds_an_allergy_and_the_kitchen_list_shows_it(journey: Journey) -> None:
    page = journey.page
    paolo = await Person.select(Person.id).where(Person.first_name == "Paolo").first()
    assert paolo is not None
    booked = await (
        Reservation.select(Reservation.activity_day._.activity, Reservation.activity_day._.day)
        .where((Reservation.person == paolo["id"]) & (Reservation.status == "accepted"))
        .order_by(Reservation.activity_day._.day)
        .output(nested=False)
        .first()
    )
    assert booked is not None, "la démo réserve des journées pour Paolo"

    await journey.login("dupont", "Demo-Dupont-2026")
    await journey.goto(f"/dossier/enfants/{paolo['id']}")
    await page.fill("#f-allergies", "Kiwi")
    await page.get_by_role("button", name="Enregistrer").click()
    await page.wait_for_load_state()
    child = await page.locator(f"#enfant-{paolo['id']}").inner_text()
    assert "Modification en attente de validation" in child
    assert "Kiwi" in child
    await journey.shot("allergie-en-attente")

    await _parent_logout(journey)
    await _staff_login(journey)
    sid = await _structure_id()
    kitchen = (
        f"/gestion/s/{sid}/sante?activite={booked['activity_day.activity']}"
        f"&jour={booked['activity_day.day']}"
    )
    await journey.goto(kitchen)
    assert "Kiwi" not in await _main(journey)
    await journey.goto(f"/gestion/s/{sid}/dossiers?liste=modifications")
    await page.locator("main table").get_by_role("link", name=re.compile("DUPONT")).click()
    await page.wait_for_load_state()
    await page.get_by_role("button", name="Valider la modification de Paolo", exact=False).click()
    await page.wait_for_load_state()
    assert "Modification validée." in await _main(journey)

    await journey.goto(kitchen)
    cells = await page.locator("tbody tr", has_text="Paolo").locator("th, td").all_inner_texts()
    assert cells == ["DUPONT Paolo", "Kiwi", "—", "non", "non"]
    await journey.shot("liste-cuisine")

    await _parent_logout(journey)
    await journey.login("dupont", "Demo-Dupont-2026")
    await journey.goto("/dossier")
    child = await page.locator(f"#enfant-{paolo['id']}").inner_text()
    assert "Modification en attente" not in child and "Kiwi" in child
