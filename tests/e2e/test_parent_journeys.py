"""A parent's journeys in a real browser, at phone and desktop sizes."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Locator, Page, Route, expect

from portal.tables import Reservation
from tests.e2e.conftest import Journey, settled

# One engine is enough in the browser; both engines are covered below the interface.
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


async def test_dupont_logs_in_and_sees_home_menus_and_switcher(journey: Journey) -> None:
    page = journey.page
    await journey.goto("/connexion")
    assert await page.locator(".demo-logins").is_visible()
    await journey.shot("connexion")
    await journey.login("dupont", "Demo-Dupont-2026")
    assert "DUPONT Jean-Paul" in (await page.locator(".account-name").text_content() or "")
    assert await page.locator(".news-item").count() >= 1
    await journey.shot("accueil")
    toggle = page.locator("[data-menu-toggle]")
    if await toggle.is_visible():  # phone: the menu opens from its button
        await toggle.click()
        assert await toggle.get_attribute("aria-expanded") == "true"
    await page.get_by_role("link", name="Profil").click()
    await page.wait_for_load_state()
    assert "/profil" in page.url
    await journey.open_menu()  # the switcher sits in the folded account block
    async with page.expect_navigation():
        await page.select_option("#structure-select", label="Ecole de musique de CarteVille")
    assert (
        "Vous consultez maintenant : Ecole de musique de CarteVille."
        in await page.locator("main").inner_text()
    )
    assert "/profil" in page.url
    await journey.shot("structure-musique")


async def test_martin_and_gestion_log_in(journey: Journey) -> None:
    page = journey.page
    await journey.login("martin", "Demo-Martin-2026")
    assert "MARTIN Sophie" in (await page.locator(".account-name").text_content() or "")
    await journey.goto("/reservations")
    assert "Réservations impossibles" in await page.locator("main").inner_text()
    await journey.shot("martin-bloque")
    await journey.open_menu()
    await page.get_by_role("button", name="Déconnexion").click()
    await page.wait_for_load_state()
    await journey.goto("/gestion/connexion")
    await page.fill("#f-identifier", "gestion")
    await page.fill("#f-password", "Demo-Gestion-2026")
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    assert "Mairie de CarteVille" in await page.locator("main").inner_text()
    await journey.shot("gestion")


async def tap(page: Page, target: Locator) -> None:
    """Tap a day and wait for htmx to swap the basket count."""
    before = await page.locator("#basket-bar").inner_text()
    await target.click()
    await expect(page.locator("#basket-bar")).not_to_have_text(before)
    await settled(page)


async def next_month(page: Page) -> None:
    title = await page.locator("#month-title").inner_text()
    await page.get_by_role("link", name="Mois suivant").click()
    await expect(page.locator("#month-title")).not_to_have_text(title)
    await settled(page)


async def _select(journey: Journey, child: str, activity: str) -> None:
    page = journey.page
    current = page.locator(f'.child-tabs a[aria-current="true"]:has-text("{child}")')
    if not await current.count():
        await page.get_by_role("link", name=child, exact=True).click()
        await expect(current).to_have_count(1)
        await journey.settled()
    await page.select_option("#activity-select", label=activity)
    await page.wait_for_selector(f".activity-hours:has-text('{activity}')")


async def test_booking_three_wednesdays_and_a_canteen_week(journey: Journey) -> None:
    page = journey.page
    await journey.login("dupont", "Demo-Dupont-2026")
    await journey.goto("/reservations")
    await _select(journey, "Amalia", "3-6 ans - Mercredi Matin")
    await journey.shot("amalia-mercredis")
    chosen_waitlist = 0
    chosen = 0
    for _ in range(4):  # walk the months until three Wednesdays are drafted
        for state in ("waitlist", "available"):
            buttons = page.locator(f"button.calendar__day--{state}:not(.calendar__day--draft-book)")
            while chosen < 3 and await buttons.count() > 0:
                if state == "waitlist" and chosen_waitlist:
                    break
                await tap(page, buttons.first)
                chosen += 1
                chosen_waitlist += state == "waitlist"
        if chosen >= 3:
            break
        await next_month(page)
    assert chosen == 3 and chosen_waitlist == 1
    assert "3 demandes non validées" in await page.locator("#basket-bar").inner_text()
    await journey.shot("amalia-panier")

    await journey.goto("/reservations")
    await _select(journey, "Paolo", "Restauration Scolaire")
    # Two months ahead Paolo has no canteen yet: a week tool books the whole week.
    await next_month(page)
    await next_month(page)
    for _ in range(3):
        weeks = page.locator("button.calendar__week-toggle")
        before = await page.locator("#basket-bar").inner_text()
        for index in range(await weeks.count()):
            await weeks.nth(index).click()
            await page.wait_for_load_state("networkidle")
            await page.wait_for_timeout(300)  # a week with nothing bookable changes nothing
            if await page.locator("#basket-bar").inner_text() != before:
                break
        if await page.locator("#basket-bar").inner_text() != before:
            break
        await next_month(page)
    await journey.shot("paolo-semaine")

    await page.get_by_role("link", name="Valider").click()
    await page.wait_for_load_state()
    recap = await page.locator("main").inner_text()
    assert recap.count("3-6 ans - Mercredi Matin") == 3
    assert recap.count("Restauration Scolaire") >= 3  # a school week, holidays aside
    assert "Annulations demandées" not in recap
    await journey.shot("recapitulatif")
    await page.get_by_role("button", name="Valider").click()
    await page.wait_for_load_state()
    result = await page.locator("main").inner_text()
    assert "Mise en liste d'attente" in result
    # The seed's remarks table: Date, Activité, Arr., Dép., Observations.
    remarks_header = await page.locator("#remarks-table thead th").all_inner_texts()
    assert [h.strip() for h in remarks_header] == [
        "Date",
        "Activité",
        "Arr.",
        "Dép.",
        "Observations",
    ]
    first_remark = (
        await page.locator("#remarks-table tbody tr").first.locator("td").all_inner_texts()
    )
    assert re.fullmatch(r"\d\d:\d\d", first_remark[2]) and re.fullmatch(
        r"\d\d:\d\d", first_remark[3]
    )
    await journey.shot("remarques")

    # DUPONT's own (the demo's allocated period left other families' waitlisted requests
    # untransmitted too).
    waitlisted = await Reservation.count().where(
        (Reservation.status == "waitlisted")
        & Reservation.transmitted_at.is_null()
        & Reservation.family._.name.like("DUPONT%")
        & Reservation.family._.structure._.name.like("Mairie%")
    )
    await journey.goto("/suivi?transmission=non-transmise")
    tracking = await page.locator("#tracking-table").inner_text()
    assert tracking.count("Liste d'attente") == waitlisted >= 1
    await journey.shot("suivi")


async def test_a_slow_login_is_sent_once_however_often_it_is_clicked(journey: Journey) -> None:
    """On opening day a login can take seconds: a second click must not send a second
    request (another password hash in the queue), the button says it is on its way, and
    after a few seconds the page says the request is in and not to reload."""
    page = journey.page
    posts: list[str] = []

    async def slow_login(route: Route) -> None:
        if route.request.method == "POST" and route.request.url.endswith("/connexion"):
            posts.append(route.request.url)
            await asyncio.sleep(5)  # past the 4 s after which the page says it is slow
        await route.continue_()

    await page.route("**/*", slow_login)
    # Each submission as the page saw it, after the portal's own handler: kept in the tab's
    # session storage, which outlives the navigation (the page cannot be read during it).
    await page.add_init_script(
        """window.addEventListener("submit", (event) => {
             const button = event.target.querySelector("button[type=submit]");
             const seen = JSON.parse(sessionStorage.getItem("submits") || "[]");
             seen.push([button.textContent, button.getAttribute("aria-disabled"),
                        event.defaultPrevented]);
             sessionStorage.setItem("submits", JSON.stringify(seen));
           });
           document.addEventListener("DOMContentLoaded", () => {
             const notice = document.querySelector("[data-slow-notice]");
             const keep = () => sessionStorage.setItem("slow", notice.textContent);
             if (notice) new MutationObserver(keep).observe(notice, {childList: true});
           });"""
    )
    await journey.goto("/connexion")
    await page.fill("#f-identifier", "dupont")
    await page.fill("#f-password", "Demo-Dupont-2026")
    box = await page.get_by_role("button", name="Se connecter").bounding_box()
    assert box is not None
    for _ in range(4):  # the mouse, not a locator: locators wait for the navigation to end
        await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        await page.wait_for_timeout(150)
    await page.wait_for_url(re.compile(r"/$"))
    assert "DUPONT Jean-Paul" in (await page.locator(".account-name").text_content() or "")
    assert len(posts) == 1
    busy = ["Connexion en cours…", "true"]
    assert await page.evaluate("JSON.parse(sessionStorage.getItem('submits'))") == [
        [*busy, False],
        [*busy, True],
        [*busy, True],
        [*busy, True],
    ]
    slow = await page.evaluate("sessionStorage.getItem('slow')")
    assert slow.startswith("Beaucoup de parents se connectent en ce moment")
    # Back from the history, the form is as it was, ready to be sent again.
    await page.go_back()
    await expect(page.get_by_role("button", name="Se connecter")).not_to_have_attribute(
        "aria-disabled", "true"
    )
