"""Accessibility (RGAA) in a real browser: axe-core on every parent page and on the calendar's
states after htmx swaps, keyboard-only booking, focus after swaps, print stylesheets; and the
journeys that test_parent_journeys.py leaves out, at phone and desktop sizes.

axe-core is vendored in tests/e2e/vendor/ (see its README). The pages forbid inline scripts,
so it is evaluated through the DevTools protocol (page.evaluate), which the CSP does not
govern: the pages are audited with their real policy, and a CSP report would fail the test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from tests.conftest import SmtpSink
from tests.e2e.conftest import ARTIFACTS, Journey

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")

# Rules switched off, each with its reason. Empty: every rule axe enables by default (WCAG
# 2.0/2.1/2.2 A and AA, best practices) runs on every page, and any violation fails.
DISABLED_RULES: dict[str, str] = {}

AXE_OPTIONS: dict[str, Any] = {
    "resultTypes": ["violations"],
    "rules": {rule: {"enabled": False} for rule in DISABLED_RULES},
}

AXE_RUN = """async (options) => {
  const results = await axe.run(document, options);
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({
      target: n.target.join(" "),
      summary: (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 300),
    })),
  }));
}"""


class Auditor:
    """Runs axe after each step, keeps a screenshot of it, and lists every violation."""

    def __init__(self, journey: Journey) -> None:
        self.journey = journey
        self.page = journey.page
        self.findings: list[str] = []
        self.audited: list[str] = []
        for old in ARTIFACTS.glob(f"{journey.name}-*"):
            old.unlink()

    async def check(self, label: str, *, shot: bool = True) -> None:
        if shot:
            await self.journey.shot(label)
        if not await self.page.evaluate("typeof window.axe !== 'undefined'"):
            await self.page.evaluate(AXE_SOURCE)
        violations = await self.page.evaluate(AXE_RUN, AXE_OPTIONS)
        self.audited.append(label)
        for v in violations:
            nodes = "; ".join(f"{n['target']} ({n['summary']})" for n in v["nodes"])
            self.findings.append(f"[{label}] {v['id']} ({v['impact']}): {v['help']} -> {nodes}")

    async def print_shot(self, label: str) -> None:
        """The page as printed (print stylesheet), kept next to the other screenshots."""
        await self.page.emulate_media(media="print")
        await self.journey.shot(f"impression-{label}")
        await self.page.emulate_media(media="screen")

    async def check_other_page(self, path: str, label: str) -> None:
        """A page whose HTTP status is an error (the console logs it, which the journey's own
        page counts as a failure): audited in a second tab of the same browser context."""
        main = self.page
        self.page = await self.journey.context.new_page()
        try:
            await self.page.goto(self.journey.base_url + path)
            await self.check(label, shot=False)
            await self.page.screenshot(path=str(ARTIFACTS / f"{self.journey.name}-{label}.png"))
        finally:
            await self.page.close()
            self.page = main

    def assert_clean(self) -> None:
        assert not self.findings, "axe-core : violations d'accessibilité\n" + "\n".join(
            self.findings
        )


async def _reset_link(smtp_server: SmtpSink) -> str:
    """The link of the password reset e-mail (the demo's low-balance alerts may come too)."""
    texts: list[str] = []
    for count in range(1, 20):
        messages = await smtp_server.wait_for(count)
        texts = [
            part.get_payload(decode=True).decode()
            for message in messages
            for part in message.walk()
            if part.get_content_type() == "text/plain"
        ]
        link = re.search(r"/reinitialiser/[A-Za-z0-9_\-]+", "\n".join(texts))
        if link:
            return link.group(0)
    raise AssertionError(f"aucun lien de réinitialisation dans {texts}")


async def _month_with(page: Page, selector: str, months: int = 4) -> None:
    """Walk the calendar forward until `selector` shows up."""
    for _ in range(months):
        if await page.locator(selector).count():
            return
        await _swap(page, page.get_by_role("link", name="Mois suivant").click)
    assert await page.locator(selector).count(), f"aucun {selector} sur {months} mois"


async def _submit(page: Page, button: Locator) -> None:
    async with page.expect_navigation():
        await button.click()


async def _swap(page: Page, action: Any, *, region: str = "#booking") -> None:
    """Do something that makes htmx swap `region`, and wait for the swap to settle."""
    await page.evaluate("(sel) => { document.querySelector(sel).dataset.stale = '1'; }", region)
    await action()
    await page.wait_for_function(
        "(sel) => { const el = document.querySelector(sel);"
        " return el && !el.dataset.stale && !document.querySelector('.htmx-request'); }",
        arg=region,
    )
    await page.wait_for_timeout(50)  # htmx settles 20 ms after the swap


async def _validate_durand_documents() -> None:
    from datetime import date

    from portal.tables import Family, FamilyDocument

    durand = await Family.select(Family.id).where(Family.name == "DURAND Claire")
    await FamilyDocument.update(
        {FamilyDocument.status: "valid", FamilyDocument.valid_until: date(2099, 8, 31)}
    ).where(FamilyDocument.family.is_in([int(r["id"]) for r in durand]))


async def _open_nav(journey: Journey, label: str) -> None:
    await journey.open_menu()
    async with journey.page.expect_navigation():
        await journey.page.get_by_role("link", name=label, exact=True).click()


async def _states_have_glyph_and_words(page: Page) -> None:
    """Every day of the month says its state with a glyph on screen and words for assistive
    technologies (aria-label or hidden text), not with its colour only; so does the legend."""
    report = await page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '.calendar__day:not(.calendar__day--outside):not(.calendar__day--none)'))
            .map((el) => {
              const heard = el.cloneNode(true);
              heard.querySelectorAll('[aria-hidden="true"]').forEach((n) => n.remove());
              return {
                glyph: (el.querySelector('.calendar__icon') || {}).textContent || '',
                words: heard.textContent.replace(/\\s+/g, ' ').trim(),
              };
            })"""
    )
    assert report, "aucune journée dans le calendrier"
    for day in report:
        # "lundi 7 décembre 2026 : Libre, Activité disponible, 12 places"
        assert day["glyph"].strip() and re.search(r"\d{4} : \w", day["words"]), day
    legend = await page.locator(".calendar-legend li").all_inner_texts()
    assert legend and all(len(item.split(":")) >= 2 and item[0].strip() for item in legend)


async def test_every_parent_page_passes_axe(journey: Journey, smtp_server: SmtpSink) -> None:
    page = journey.page
    audit = Auditor(journey)

    # Public pages.
    await journey.goto("/connexion")
    await audit.check("connexion")
    await journey.goto("/mot-de-passe-oublie")
    await audit.check("mot-de-passe-oublie")
    await page.fill("#f-identifier", "dupont")
    await page.fill("#f-email", "jean-paul.dupont@example.fr")
    await _submit(page, page.get_by_role("button", name="Recevoir un lien"))
    await audit.check("lien-envoye")
    await journey.goto(await _reset_link(smtp_server))
    assert await page.locator("#f-password").count() == 1
    await audit.check("nouveau-mot-de-passe")
    await journey.goto("/accessibilite")
    await audit.check("declaration-accessibilite")
    await journey.goto("/mentions")
    await audit.check("mentions")
    await audit.check_other_page("/page-qui-n-existe-pas", "erreur-404")
    await journey.goto("/hors-ligne")
    await audit.check("hors-ligne")

    # Dupont's pages, the calendar in both modes and after each kind of swap.
    await journey.login("dupont", "Demo-Dupont-2026")
    await audit.check("accueil")
    await _open_nav(journey, "Réservations")
    await audit.check("reservations-toutes-activites")
    await _states_have_glyph_and_words(page)
    await _month_with(page, "a.calendar__day--available")
    await _swap(page, page.locator("a.calendar__day--available").first.click)
    await audit.check("liste-du-jour")
    # The list is in time order (issue 12): the first activity without times toggles here.
    await _swap(page, page.locator(".day-list__item:not([data-time-entry]) button").first.click)
    await audit.check("liste-du-jour-apres-choix")
    await _swap(page, page.get_by_role("link", name="Retour au mois").click)
    await _swap(page, lambda: page.select_option("#activity-select", label="Restauration Scolaire"))
    await audit.check("reservations-une-activite")
    await _states_have_glyph_and_words(page)
    free = "button.calendar__day--available:not(.calendar__day--draft-book)"
    await _month_with(page, free)
    # A tap swaps only what changed (the day, the basket bar), out of band.
    await _swap(page, page.locator(free).first.click, region="#basket-bar")
    await audit.check("calendrier-apres-choix")
    await _swap(page, page.get_by_role("link", name="Mois suivant").click)
    await audit.check("calendrier-mois-suivant")

    await _submit(page, page.get_by_role("link", name=re.compile(r"\(Importer\)")))
    await audit.check("importer")
    await _submit(page, page.get_by_role("link", name="Retour au calendrier"))

    # Recap, result, tracking, histories, balance, profile.
    await _submit(page, page.locator("#basket-bar").get_by_role("link", name="Valider"))
    await audit.check("recapitulatif")
    await audit.print_shot("recapitulatif")
    await _submit(page, page.get_by_role("button", name="Valider"))
    await audit.check("resultat")
    await _open_nav(journey, "Suivi")
    await audit.check("suivi")
    await audit.print_shot("suivi")
    await _open_nav(journey, "Historiques")
    await audit.check("historiques")
    await audit.print_shot("historiques")
    await _open_nav(journey, "Paiement et solde")
    await audit.check("paiement")
    await _open_nav(journey, "Profil")
    await audit.check("profil")

    # Profile: new e-mail addresses, at once.
    await page.fill("#f-emails", "jp.dupont@example.fr ; famille.dupont@example.org")
    await _submit(page, page.get_by_role("button", name="Enregistrer les adresses"))
    assert await page.input_value("#f-emails") == "jp.dupont@example.fr; famille.dupont@example.org"
    await audit.check("profil-adresses-changees")

    # Structure switch, then logout.
    await journey.open_menu()
    async with page.expect_navigation():
        await page.select_option("#structure-select", label="Ecole de musique de CarteVille")
    assert "Ecole de musique de CarteVille" in await page.locator("main").inner_text()
    await audit.check("profil-ecole-de-musique")
    await journey.open_menu()
    await _submit(page, page.get_by_role("button", name="Déconnexion"))
    assert "Vous êtes déconnecté" in await page.locator("main").inner_text()
    await audit.check("deconnecte")

    (ARTIFACTS / f"{journey.name}-axe.txt").write_text("\n".join(audit.audited) + "\n")
    audit.assert_clean()


async def test_first_login_then_a_time_entry_booking(journey: Journey) -> None:
    """Durand's first login (own password, RGPD and CGU, rules signed for Hugo), then an
    "Accueil Soir" booking with arrival and departure times, down to the result."""
    page = journey.page
    audit = Auditor(journey)
    await journey.login("durand", "Demo-Durand-2026")
    assert page.url.endswith("/premiere-connexion/mot-de-passe")
    await audit.check("mot-de-passe-personnel")
    await page.fill("#f-password", "Claire-Hugo-2026!")
    await page.fill("#f-password-confirm", "Claire-Hugo-2026!")
    await _submit(page, page.get_by_role("button", name="Enregistrer le mot de passe"))
    assert page.url.endswith("/premiere-connexion/conditions")
    await audit.check("rgpd-et-cgu")
    await page.get_by_label("J'ai pris connaissance de la notice RGPD").check()
    await page.get_by_label("J'ai lu et j'accepte les conditions générales").check()
    await _submit(page, page.get_by_role("button", name="Valider"))
    assert page.url.endswith("/premiere-connexion/reglement")
    await audit.check("reglement-interieur")
    await page.get_by_label("J'atteste avoir pris connaissance").check()
    await page.fill("#f-place", "CarteVille")
    await _submit(page, page.get_by_role("button", name="Signer pour Hugo"))
    assert "Bienvenue, DURAND Claire" in await page.locator("main").inner_text()
    await audit.check("accueil-durand")

    # The demo file of the Durands is incomplete (CAF attestation refused, Hugo's insurance
    # being checked): the booking page says what is missing, with a link to the file.
    await _open_nav(journey, "Réservations")
    blocked = await page.locator("main").inner_text()
    assert "Il manque : Attestation CAF / quotient familial : refusé" in blocked
    await audit.check("dossier-incomplet")
    await _open_nav(journey, "Mon dossier")
    assert "Motif : Attestation de plus de trois mois" in await page.locator("main").inner_text()
    await audit.check("mon-dossier")
    await _validate_durand_documents()  # as the staff would, after a new upload

    await _open_nav(journey, "Réservations")
    await _swap(
        page, lambda: page.select_option("#activity-select", label="Accueil Soir 1/2 heure")
    )
    await _month_with(page, "button.calendar__day--available")
    async with page.expect_navigation(url=re.compile(r"/reservations/horaires")):
        await page.locator("button.calendar__day--available").first.click()
    assert "Horaires : Accueil Soir 1/2 heure" in await page.locator("h1").inner_text()
    await audit.check("horaires")
    await page.select_option("#f-depart", index=1)
    departure = await page.locator("#f-depart option:checked").inner_text()
    await _submit(page, page.get_by_role("button", name="Ajouter à mes demandes"))
    assert "1 demande non validée" in await page.locator("#basket-bar").inner_text()
    await audit.check("calendrier-horaires-choisis")
    await _submit(page, page.locator("#basket-bar").get_by_role("link", name="Valider"))
    recap = await page.locator("main").inner_text()
    assert "Accueil Soir 1/2 heure" in recap and departure in recap
    await audit.check("recapitulatif-horaires")
    await _submit(page, page.get_by_role("button", name="Valider"))
    assert "1 demande traitée" in await page.locator("main").inner_text()
    await audit.check("resultat-horaires")
    audit.assert_clean()


async def test_sandbox_card_payment_unblocks_martin(journey: Journey) -> None:
    """Martin is in debt: Paiement et solde, Paiement CB, the sandbox platform's "Payer",
    back on the portal the payment shows as paid and booking opens again."""
    page = journey.page
    audit = Auditor(journey)
    await journey.login("martin", "Demo-Martin-2026")
    await _open_nav(journey, "Paiement et solde")
    assert await page.locator("#blocage").is_visible()
    await audit.check("paiement-bloque")
    async with page.expect_navigation(url=re.compile(r"/paiement/bac-a-sable/")):
        await page.get_by_role("button", name="Paiement CB").click()
    await audit.check("plateforme-bac-a-sable")
    async with page.expect_navigation(url=re.compile(r"/paiement/retour/")):
        await page.get_by_role("button", name="Payer").click()
    status = page.locator("#payment-status .badge")
    await expect(status).to_have_text(re.compile("Payé", re.IGNORECASE), timeout=10_000)
    assert "Votre paiement est accepté" in await page.locator("main").inner_text()
    await audit.check("paiement-accepte")
    await _open_nav(journey, "Historiques")
    assert "Carte bancaire" in await page.locator("main").inner_text()
    await audit.check("historiques-avec-paiement")
    await _open_nav(journey, "Réservations")
    assert "Réservations impossibles" not in await page.locator("main").inner_text()
    await audit.check("reservations-debloquees")
    audit.assert_clean()
