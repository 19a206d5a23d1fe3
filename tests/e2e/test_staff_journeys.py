"""The back office in a real browser, at phone and desktop sizes, then the family's view."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from portal import clock
from portal.domain.staff.schedule import Schedule, plan_days
from tests.e2e.conftest import Journey

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


async def _menu(journey: Journey, label: str) -> None:
    """Follow a link of the staff menu (opening it first on a phone)."""
    page = journey.page
    toggle = page.locator("[data-menu-toggle]")
    if await toggle.is_visible():
        await toggle.click()
    await page.locator("#navigation").get_by_role("link", name=label, exact=True).click()
    await page.wait_for_load_state()


async def _main(journey: Journey) -> str:
    return await journey.page.locator("main").inner_text()


async def test_gestion_changes_reach_dupont(journey: Journey) -> None:
    page = journey.page
    viewport = journey.name.rsplit("-", 1)[-1]
    await journey.goto("/gestion/connexion")
    await page.fill("#f-identifier", "gestion")
    await page.fill("#f-password", "Demo-Gestion-2026")
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()
    assert "Tableau de bord · Mairie de CarteVille" in await _main(journey)
    await journey.shot("tableau-de-bord")

    # --- a new activity, and next month's Wednesdays --------------------------------------
    await _menu(journey, "Activités")
    await page.get_by_role("link", name="Nouvelle activité").click()
    await page.fill("#f-nom", "Atelier cirque - Mercredi")
    await page.fill("#f-debut", "14:00")
    await page.fill("#f-fin", "16:00")
    await page.fill("#f-capacite", "12")
    await page.click("form[aria-labelledby=settings-title] button[type=submit]")
    await page.wait_for_load_state()
    assert "Activité « Atelier cirque - Mercredi » créée" in await _main(journey)
    await page.get_by_role("link", name="Journées et capacités").click()
    await page.wait_for_load_state()
    today = clock.local_today("Europe/Paris")
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    expected = plan_days(Schedule(first, last, frozenset({2}))).dates
    await page.fill("#f-du", first.isoformat())
    await page.fill("#f-au", last.isoformat())
    await page.get_by_label("Mercredi").check()
    await page.get_by_role("button", name="Générer les journées").click()
    await page.wait_for_load_state()
    result = await page.locator("#generation-result").inner_text()
    assert f"{len(expected)} journées créées." in result
    assert await page.locator("#days-table tbody tr").count() == len(expected)
    await journey.shot("journees-generees")
    await page.fill("#f-du", first.isoformat())
    await page.fill("#f-au", last.isoformat())
    await page.get_by_label("Mercredi").check()
    await page.get_by_role("button", name="Générer les journées").click()
    await page.wait_for_load_state()
    again = await page.locator("#generation-result").inner_text()
    assert "0 journée créée." in again and f"{len(expected)} existaient déjà" in again

    # --- Paolo's waitlisted request is accepted -----------------------------------------
    await _menu(journey, "Décisions")
    await page.select_option("#f-activite", label="ALSH 6-12 - Mercredi Journée")
    await page.get_by_role("button", name="Filtrer").click()
    await page.wait_for_load_state()
    row = page.locator("li", has_text="Paolo DUPONT")
    assert "Liste d'attente" in await row.inner_text()
    section = page.locator("section.decision-day", has=row)
    heading = await section.locator("h2").inner_text()
    day_text = heading.split(" · ")[-1]  # "mer. 03/12/2026"
    await journey.shot("decisions")
    await row.get_by_role("button", name=re.compile("^Accepter")).click()
    await page.wait_for_selector("text=Demande de Paolo acceptée.")
    await journey.shot("decision-acceptee")

    # --- a cheque --------------------------------------------------------------------------
    await _menu(journey, "Règlements")
    await page.fill("#f-recherche", "DUPONT")
    await page.get_by_role("button", name="Chercher").click()
    await page.wait_for_load_state()
    await page.locator("#family-matches").get_by_role("link", name="DUPONT Jean-Paul").click()
    await page.wait_for_load_state()
    piece = f"E2E-{viewport.upper()}-0042"
    await page.select_option("#f-mode", "CHEQUE")
    await page.fill("#f-montant", "35,00")
    await page.fill("#f-piece", piece)
    await page.fill("#f-banque", "Banque Postale")
    await page.get_by_role("button", name="Enregistrer le règlement").click()
    await page.wait_for_load_state()
    assert "Chèque de 35,00 € enregistré pour DUPONT Jean-Paul." in (
        (await _main(journey)).replace("\u00a0", " ")
    )
    await journey.shot("cheque")

    # --- news --------------------------------------------------------------------------------
    await _menu(journey, "Actualités")
    await page.fill("#f-titre", "Sortie au cirque")
    await page.fill("#f-texte", "Les enfants de l'accueil de loisirs iront au cirque mercredi.")
    await page.get_by_role("button", name="Publier").click()
    await page.wait_for_load_state()
    assert "Actualité « Sortie au cirque » publiée." in await _main(journey)
    await journey.shot("actualite")
    toggle = page.locator("[data-menu-toggle]")
    if await toggle.is_visible():
        await toggle.click()
    await page.get_by_role("button", name="Déconnexion").click()
    await page.wait_for_load_state()

    # --- what the family sees ----------------------------------------------------------
    await journey.login("dupont", "Demo-Dupont-2026")
    assert await page.locator(".news-item", has_text="Sortie au cirque").count() == 1
    await journey.shot("dupont-accueil")
    await journey.goto("/suivi")
    tracking = page.locator("#tracking-table tr", has_text=day_text).filter(
        has_text="ALSH 6-12 - Mercredi Journée"
    )
    assert "Acceptée, non transmise" in await tracking.inner_text()
    await journey.shot("dupont-suivi")
    await journey.goto("/historiques")
    assert piece in await _main(journey)
    await journey.shot("dupont-historiques")


AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map((v) => v.id + " (" + v.impact + "): " + v.help + " -> "
    + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; "));
}"""
STAFF_PAGES = [
    "", "/activites", "/activites/nouvelle", "/activites/5", "/activites/5/journees",
    "/decisions", "/presences", "/reglements?recherche=DUPONT", "/reglements?famille=1",
    "/actualites", "/familles", "/familles/1", "/transmission",
    "/journal", "/transmission/exports",
]  # fmt: skip


async def test_every_staff_page_passes_axe_and_fits_the_screen(journey: Journey) -> None:
    """axe-core (WCAG A/AA and best practices) on each back-office page; no sideways scroll."""
    page = journey.page
    await journey.goto("/gestion/connexion")
    await page.fill("#f-identifier", "gestion")
    await page.fill("#f-password", "Demo-Gestion-2026")
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()
    findings = []
    for path in STAFF_PAGES:
        await journey.goto(f"/gestion/s/1{path}")
        assert "Page introuvable" not in await _main(journey), path
        await page.evaluate(AXE_SOURCE)
        findings += [f"[{path or '/'}] {v}" for v in await page.evaluate(AXE_RUN)]
        width = await page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size
        assert viewport is not None and width <= viewport["width"], f"{path} : {width}px"
    assert not findings, "\n".join(findings)
