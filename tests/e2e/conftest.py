"""Browser journeys: Debian's Chromium driven by Playwright against a live server with the
demo data. Screenshots of each step are kept under test-artifacts/ (phone and desktop)."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import IN_CI, Database, SmtpSink, load_demo_data, make_settings
from tests.web.conftest import LiveServer

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
    "desktop": {"viewport": {"width": 1366, "height": 768}},
}


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (once per session)
        if IN_CI:
            pytest.fail(f"Chromium introuvable à {CHROMIUM} : en CI il est obligatoire")
        pytest.skip(f"Chromium introuvable à {CHROMIUM} (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
async def demo_server(
    db: Database, tmp_path: Path, smtp_server: SmtpSink
) -> AsyncIterator[LiveServer]:
    if db.kind != "sqlite":
        pytest.skip(
            "parcours navigateur joués sur SQLite ; PostgreSQL est couvert sous l'interface"
        )
    await load_demo_data(db)
    settings = make_settings(
        tmp_path,
        db.url,
        PORTAL_SMTP_HOST=smtp_server.host,
        PORTAL_SMTP_PORT=smtp_server.port,
        PORTAL_DEMO="1",
    )
    async with LiveServer(settings, db) as server:
        yield server


async def settled(page: Page) -> None:
    """Wait until htmx has finished swapping (new content is wired only after settle)."""
    await page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
    await page.wait_for_timeout(50)


class Journey:
    """One person's browser session at one screen size, with numbered screenshots."""

    def __init__(self, context: BrowserContext, page: Page, base_url: str, name: str) -> None:
        self.context = context
        self.page = page
        self.base_url = base_url
        self.name = name
        self.step = 0

    async def goto(self, path: str) -> None:
        await self.page.goto(self.base_url + path)

    async def shot(self, label: str) -> Path:
        self.step += 1
        ARTIFACTS.mkdir(exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        path = ARTIFACTS / f"{self.name}-{self.step:02d}-{slug}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def settled(self) -> None:
        await settled(self.page)

    async def open_menu(self) -> None:
        """On phones the account block and the menu fold under the "Menu" button."""
        toggle = self.page.locator("[data-menu-toggle]")
        if await toggle.is_visible() and await toggle.get_attribute("aria-expanded") != "true":
            await toggle.click()

    async def login(self, login: str, password: str) -> None:
        await self.goto("/connexion")
        await self.page.fill("#f-identifier", login)
        await self.page.fill("#f-password", password)
        await self.page.click("button[type=submit]")
        await self.page.wait_for_load_state()


@pytest.fixture(params=list(VIEWPORTS))
async def journey(
    request: pytest.FixtureRequest, chromium: Browser, demo_server: LiveServer
) -> AsyncIterator[Journey]:
    context = await chromium.new_context(locale="fr-FR", **VIEWPORTS[request.param])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    name = f"{request.node.originalname}-{request.param}"
    yield Journey(context, page, demo_server.url, name)
    await context.close()
    # A CSP violation or a script error is a bug even when the journey got through.
    assert not errors, f"erreurs dans le navigateur : {errors}"
