"""A clerk on a phone: books for martin's child by phone request (after recording the
cheque that clears the debt), then prints tomorrow's kitchen sheet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import Browser

from portal import clock
from portal.tables import Family, Reservation
from tests.e2e.conftest import VIEWPORTS, Journey
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@pytest.fixture
async def phone(chromium: Browser, demo_server: LiveServer) -> AsyncIterator[Journey]:
    context = await chromium.new_context(locale="fr-FR", **VIEWPORTS["phone"])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield Journey(context, page, demo_server.url, "clerk-phone-booking")
    await context.close()
    assert not errors, f"erreurs dans le navigateur : {errors}"


async def test_clerk_books_for_martin_then_prints_the_kitchen_sheet(phone: Journey) -> None:
    page = phone.page
    martin = await Family.objects().get(Family.name == "MARTIN Sophie")
    assert martin is not None
    sid, fid = int(martin.structure), int(martin.id)
    await phone.goto("/gestion/connexion")
    await page.fill("#f-identifier", "gestion")
    await page.fill("#f-password", "Demo-Gestion-2026")
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()

    # The phone call: martin's debt blocks booking, as for the parent; the cheque first.
    await phone.goto(f"/gestion/s/{sid}/familles/{fid}")
    await page.get_by_role("link", name="Réserver pour cette famille").click()
    await page.wait_for_load_state()
    assert "Réservations impossibles pour Léa" in await page.locator("main").inner_text()
    await phone.shot("bloquee")
    await page.get_by_role("link", name="Enregistrer un règlement").first.click()
    await page.wait_for_load_state()
    await page.fill("#f-montant", "82,40")
    await page.fill("#f-payeur", "MARTIN Sophie")
    await page.fill("#f-piece", "7781234")
    await page.fill("#f-banque", "Crédit Agricole")
    await page.get_by_role("button", name="Enregistrer le règlement").click()
    await page.wait_for_load_state()
    assert "Règlement" in await page.locator("main").inner_text()
    await phone.shot("reglement")

    # Next month's canteen, one free day, as the parent would: tap, recap, confirm.
    first = (clock.local_today("Europe/Paris").replace(day=1) + timedelta(days=32)).replace(day=1)
    await phone.goto(f"/gestion/s/{sid}/familles/{fid}/reservations?activite=1&mois={first:%Y-%m}")
    free = page.locator("button.calendar__day--available").first
    day = str(await free.get_attribute("value")).removeprefix("jour:")
    await free.click()
    await phone.settled()
    await phone.shot("jour-choisi")
    await page.locator("#basket-bar").get_by_role("link", name="Valider").click()
    await page.wait_for_load_state()
    await page.locator("main form[action$='/valider'] button").click()
    await page.wait_for_load_state()
    assert "Les demandes ont été enregistrées" in await page.locator("main").inner_text()
    await phone.shot("resultat")
    booked = await Reservation.objects().get(
        (Reservation.family == fid) & (Reservation.activity_day._.day == day)
    )
    assert booked is not None and (booked.status, booked.created_by) == ("accepted", "staff")

    # Tomorrow's kitchen sheet, printable.
    await phone.goto(f"/gestion/s/{sid}/cuisine")
    main = await page.locator("main").inner_text()
    assert "Effectifs du" in main and "Par régime" in main
    await page.emulate_media(media="print")
    await phone.shot("cuisine-impression")
