"""An administrator's journey (issue 17): create a staff account with roles, read the
journal, download last night's export, open the raw tables; axe on the new pages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.e2e.conftest import Journey
from tests.e2e.test_staff_journeys import AXE_RUN, AXE_SOURCE

SHOTS = Path("/work/shots/helper-17a")


async def _axe(journey: Journey, where: str) -> list[str]:
    await journey.page.evaluate(AXE_SOURCE)
    width = await journey.page.evaluate("document.documentElement.scrollWidth")
    viewport = journey.page.viewport_size
    assert viewport is not None and width <= viewport["width"], f"{where} : {width}px"
    return [f"[{where}] {v}" for v in await journey.page.evaluate(AXE_RUN)]


async def _keep(journey: Journey, label: str) -> None:
    path = await journey.shot(label)
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)  # noqa: ASYNC240 (a screenshot copy, tests only)
        shutil.copy(path, SHOTS / path.name)


async def test_admin_creates_an_agent_then_reads_the_journal(journey: Journey) -> None:
    page = journey.page
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    await journey.goto("/gestion/connexion")
    await page.fill("#f-identifier", "admin")
    await page.fill("#f-password", "Demo-Admin-2026-!")
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()
    code = re.search(r"le code actuel est (\d{6})", await page.inner_text("main"))
    assert code, "le code de démonstration n'est pas affiché"
    await page.fill("input[name=code]", code.group(1))
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()

    findings = []
    await journey.goto("/gestion/comptes")
    assert "regie" in await page.inner_text("main")
    findings += await _axe(journey, "/gestion/comptes")
    await _keep(journey, "comptes")
    await journey.goto("/gestion/comptes/nouveau")
    await page.fill("#f-identifiant", "c.martin")
    await page.fill("#f-nom", "Claire Martin")
    await page.check("#r-1-agent")
    findings += await _axe(journey, "/gestion/comptes/nouveau")
    await _keep(journey, "nouveau-compte")
    await page.click("main form.form button[type=submit]")
    await page.wait_for_load_state()
    password = await page.inner_text("[data-password]")
    assert len(password) >= 12
    await _keep(journey, "mot-de-passe-initial")

    await journey.goto("/gestion/s/1/journal")
    findings += await _axe(journey, "/gestion/s/1/journal")
    await _keep(journey, "journal")
    await journey.goto("/gestion/journal?type=personnel")
    assert "Compte du personnel créé" in await page.inner_text("main")
    await _keep(journey, "journal-global")

    await journey.goto("/gestion/s/1/transmission")
    await page.click("main form[action$='/transmission'] button[type=submit]")
    await page.wait_for_load_state()
    await _keep(journey, "transmission")
    async with page.expect_download() as waiting:
        await page.click("#nights-table a[href$='.xlsx']")
    download = await waiting.value
    assert download.suggested_filename.startswith("transmission-carteville-")
    assert findings == [], "\n".join(findings)

    await journey.goto("/admin/")
    await page.wait_for_selector("#app *", timeout=10_000)
    await page.wait_for_timeout(300)
    await _keep(journey, "admin")
    height = await page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, f"/admin/ : {height}px de haut"
    assert missing == []
