"""The installable app in a real browser: service worker, installability, offline page, updates,
nothing personal cached, everything cleared at logout; and keyboard-only booking."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page

from portal.pages import pwa
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, VIEWPORTS, Journey
from tests.e2e.test_accessibility import Auditor
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

CACHED_URLS = """async () => {
  const found = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    found[name] = (await cache.keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
  }
  return found;
}"""

WORKER_READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) =>
      navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
  }
  return { scope: registration.scope, script: registration.active.scriptURL };
}"""


def _only_static(cached: dict[str, list[str]]) -> None:
    """Only static files and the offline page: no page of an account, ever."""
    for name, urls in cached.items():
        assert name.startswith("portail-famille-static-"), cached
        for url in urls:
            assert url.startswith("/static/") or url in ("/hors-ligne", "/manifest.webmanifest"), (
                f"{url} ne devrait pas être en cache ({name})"
            )


@pytest.fixture(params=list(VIEWPORTS))
async def app_journey(
    request: pytest.FixtureRequest, chromium: Browser, demo_server: LiveServer, tmp_path: Path
) -> AsyncIterator[Journey]:
    """A journey in a browser profile of its own: Chromium never offers to install an app from
    an incognito context, which is what Playwright's new_context() makes."""
    context = await chromium.browser_type.launch_persistent_context(
        str(tmp_path / "profil"),
        executable_path=CHROMIUM,
        args=CHROMIUM_FLAGS,
        locale="fr-FR",
        **VIEWPORTS[request.param],
    )
    page = context.pages[0] if context.pages else await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield Journey(context, page, demo_server.url, f"{request.node.originalname}-{request.param}")
    await context.close()
    assert not errors, f"erreurs dans le navigateur : {errors}"


async def _installability(page: Page) -> dict[str, Any]:
    cdp = await page.context.new_cdp_session(page)
    try:
        errors = await cdp.send("Page.getInstallabilityErrors")
        manifest = await cdp.send("Page.getAppManifest")
    finally:
        await cdp.detach()
    return {"errors": errors.get("installabilityErrors", []), "manifest": manifest}


async def test_installable_offline_updated_and_cleared_at_logout(
    app_journey: Journey, monkeypatch: pytest.MonkeyPatch
) -> None:
    journey = app_journey
    page = journey.page
    for old in ARTIFACTS.glob(f"{journey.name}-*"):
        old.unlink()
    await journey.goto("/connexion")
    worker = await page.evaluate(WORKER_READY)
    assert worker["scope"] == journey.base_url + "/"
    assert worker["script"] == journey.base_url + "/sw.js"

    # Installable: Chromium's own verdict (http://127.0.0.1 counts as a secure origin).
    report = await _installability(page)
    assert report["errors"] == [], report["errors"]
    assert report["manifest"]["errors"] == [], report["manifest"]["errors"]
    manifest = json.loads(report["manifest"]["data"])
    assert manifest["name"] == "Portail Famille" and manifest["short_name"]
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert manifest["theme_color"] and manifest["background_color"]
    icons = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= icons
    head = page.locator("head")
    assert await head.locator('link[rel="apple-touch-icon"]').count() == 1
    assert await head.locator('meta[name="apple-mobile-web-app-capable"]').count() == 1
    assert await page.get_attribute("html", "lang") == "fr"

    # Logged in: personal pages go through the worker but are never stored.
    await journey.login("dupont", "Demo-Dupont-2026")
    for path in ("/reservations", "/historiques", "/paiement"):
        await journey.goto(path)
    assert await page.evaluate("navigator.serviceWorker.controller !== null")
    first = await page.evaluate(CACHED_URLS)
    _only_static(first)
    [static_cache] = first
    assert "/hors-ligne" in first[static_cache]

    # Offline: any page shows the offline page, styled from the cache, and nothing personal.
    offline = await journey.context.new_page()
    noise: list[str] = []
    offline.on("console", lambda m: _network_noise(m, noise))
    await offline.goto(journey.base_url + "/reservations")  # online, to have a calendar
    await journey.context.set_offline(True)
    await offline.locator("a.calendar__day, button.calendar__day").first.click()
    status = offline.locator("#network-status")
    await status.filter(has_text="Connexion impossible").wait_for()
    await offline.screenshot(path=str(ARTIFACTS / f"{journey.name}-tap-hors-ligne.png"))
    await offline.goto(journey.base_url + "/suivi")
    assert await offline.locator("h1").inner_text() == "Vous êtes hors ligne"
    assert "DUPONT" not in await offline.locator("body").inner_text()
    # Styled: the stylesheet came from the worker's cache.
    rules = "() => Array.from(document.styleSheets).reduce((n, s) => n + s.cssRules.length, 0)"
    assert await offline.evaluate(rules) > 100
    await offline.screenshot(path=str(ARTIFACTS / f"{journey.name}-hors-ligne.png"))
    await journey.context.set_offline(False)
    await offline.wait_for_function(
        "() => document.querySelector('h1').textContent.startsWith('Suivi')"
    )
    await offline.close()
    assert all(_is_network_noise(text) for text in noise), noise

    # An update of the app (another version of the static files) takes over at once and
    # deletes the old caches: no manual flush.
    monkeypatch.setattr(pwa, "static_version", lambda *a, **k: "test-nouvelle-version")
    await page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    await page.wait_for_function(
        """async () => JSON.stringify(await caches.keys())
           === JSON.stringify(["portail-famille-static-test-nouvelle-version"])"""
    )
    _only_static(await page.evaluate(CACHED_URLS))

    # Logout: Clear-Site-Data wipes storage and caches; the next page registers a fresh worker.
    await page.evaluate(
        """async () => {
          localStorage.setItem("trace", "1");
          sessionStorage.setItem("trace", "1");
          await (await caches.open("trace")).put("/trace", new Response("x"));
        }"""
    )
    await journey.open_menu()
    async with page.expect_navigation(url=re.compile(r"/connexion")):
        await page.get_by_role("button", name="Déconnexion").click()
    assert await page.evaluate("localStorage.getItem('trace')") is None
    assert await page.evaluate("sessionStorage.getItem('trace')") is None
    assert "trace" not in await page.evaluate("caches.keys()")
    await page.evaluate(WORKER_READY)
    _only_static(await page.evaluate(CACHED_URLS))
    await journey.shot("deconnecte")


def _is_network_noise(text: str) -> bool:
    # What Chromium and htmx log when the network is cut: expected here, and only here.
    return text.startswith(("htmx:sendError", "htmx:afterRequest")) or any(
        part in text
        for part in ("ERR_INTERNET_DISCONNECTED", "navigation preload", "Failed to load resource")
    )


def _network_noise(message: ConsoleMessage, noise: list[str]) -> None:
    if message.type == "error":
        noise.append(message.text)


# --- keyboard only ---------------------------------------------------------------------------


async def _tab_to(page: Page, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the focus is on an element matching `selector`."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} jamais atteint au clavier")


async def _focused(page: Page) -> dict[str, Any]:
    return dict(
        await page.evaluate(
            """() => {
              const el = document.activeElement;
              return {
                id: el.id, value: el.getAttribute("value"), classes: el.className,
                visible: el.matches(":focus-visible") && (
                  (getComputedStyle(el).outlineStyle !== "none"
                    && parseFloat(getComputedStyle(el).outlineWidth) >= 2)
                  || getComputedStyle(el).boxShadow !== "none"),
              };
            }"""
        )
    )


async def _settled(page: Page) -> None:
    await page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    await page.wait_for_timeout(60)


@pytest.mark.parametrize("journey", ["desktop"], indirect=True)
async def test_keyboard_only_booking(journey: Journey) -> None:
    page = journey.page
    audit = Auditor(journey)
    await journey.login("dupont", "Demo-Dupont-2026")
    await journey.goto("/reservations")

    # The skip link comes first and leads to the content.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    assert (await _focused(page))["visible"]
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "contenu"

    # The activity list: a letter picks the activity, the calendar follows, the focus stays.
    # One key, not the whole name: the select is swapped on its first change, and the
    # browser's type-ahead buffer does not survive the swap, so the later letters of a
    # word would pick another activity whenever the answer came back mid-word.
    await _tab_to(page, "#activity-select")
    await page.keyboard.press("r")
    await page.wait_for_selector(".activity-hours:has-text('Restauration Scolaire')")
    await _settled(page)
    assert (await _focused(page))["id"] == "activity-select"

    # A month change puts the focus on the new month's title.
    await _tab_to(page, "a[aria-label='Mois suivant']")
    title = await page.locator("#month-title").inner_text()
    await page.keyboard.press("Enter")
    await page.wait_for_function(
        "(t) => document.querySelector('#month-title').textContent !== t", arg=title
    )
    await _settled(page)
    assert (await _focused(page))["id"] == "month-title"

    # Enter, then Space, on free days: each stays focused (and visibly so) after the swap.
    free = "button.calendar__day--available:not(.calendar__day--draft-book)"
    for key in ("Enter", " "):
        await _tab_to(page, free)
        day = (await _focused(page))["value"]
        await page.keyboard.press(key)
        await page.wait_for_selector(f'button.calendar__day--draft-book[value="{day}"]')
        await _settled(page)
        focused = await _focused(page)
        assert focused["value"] == day and "draft-book" in focused["classes"], focused
        assert focused["visible"], focused
    await audit.check("clavier-deux-jours-choisis")
    assert "2 demandes non validées" in await page.locator("#basket-bar").inner_text()

    # On to "Valider", the recap, and its own "Valider".
    await _tab_to(page, "#basket-bar a.button")
    async with page.expect_navigation(url=re.compile(r"/recapitulatif")):
        await page.keyboard.press("Enter")
    await _tab_to(page, "form[action='/reservations/valider'] button")
    async with page.expect_navigation(url=re.compile(r"/resultat")):
        await page.keyboard.press("Enter")
    assert "2 demandes traitées" in await page.locator("main").inner_text()
    await audit.check("clavier-resultat")
    audit.assert_clean()
