"""One journey at phone size: dupont turns on push for this phone (Chromium, notification
permission granted), the structure broadcasts « sortie annulée », the push reaches the
push service encrypted, and dupont reads the message in « Messages ».

Headless Chromium has no push service of its own (its subscriptions go to Google's FCM),
so the page's PushManager is given a subscription whose endpoint is a local push service
stand-in, with keys this test holds: everything else is the real path (permission,
service worker, static/family.js, the subscription route, the push outbox, pywebpush)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import http_ece
import pytest
from playwright.async_api import Browser, Page

from portal.domain.messages import service as messages
from portal.domain.messages.rules import Audience
from portal.tables import Activity, PushSubscription, Structure
from tests.e2e.conftest import VIEWPORTS
from tests.integration.notifications.conftest import BrowserKeys
from tests.integration.notifications.push_service import PushServiceStandIn
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
SHOTS = Path("/work/shots/helper-16a")

FAKE_PUSH_MANAGER = """
(() => {
  const json = %s;
  let current = null;
  const subscription = {
    endpoint: json.endpoint,
    toJSON: () => json,
    unsubscribe: () => { current = null; return Promise.resolve(true); },
  };
  PushManager.prototype.subscribe = function () {
    current = subscription;
    return Promise.resolve(subscription);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();
"""


@pytest.fixture
async def push_service() -> AsyncIterator[PushServiceStandIn]:
    service = PushServiceStandIn()
    service.start()
    yield service
    service.stop()


AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
AXE_RUN = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .map((v) => v.id + ": " + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; "))"""


async def _axe(page: Page) -> list[str]:
    await page.evaluate(AXE_SOURCE)
    return list(await page.evaluate(AXE_RUN))


async def _shot(page: Page, name: str) -> None:
    await anyio.Path(SHOTS).mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_push_subscription_and_a_staff_broadcast_on_a_phone(
    chromium: Browser, demo_server: LiveServer, push_service: PushServiceStandIn
) -> None:
    keys = BrowserKeys.new()
    subscription = keys.subscription(f"{push_service.base}/push/telephone")
    context = await chromium.new_context(locale="fr-FR", **VIEWPORTS["phone"])
    await context.grant_permissions(["notifications"], origin=demo_server.url)
    await context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(subscription))
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await page.goto(demo_server.url + "/connexion")
        await page.fill("#f-identifier", "dupont")
        await page.fill("#f-password", "Demo-Dupont-2026")
        await page.click("main button[type=submit]")
        await page.wait_for_load_state()
        await page.goto(demo_server.url + "/profil#notifications-title")
        await page.evaluate("() => navigator.serviceWorker.ready")
        button = page.locator("[data-push-subscribe]")
        await button.wait_for(state="visible")
        await button.click()
        status = page.locator("[data-push-status]")
        await status.filter(has_text="Notifications activées sur cet appareil").wait_for()
        await page.locator("[data-push-unsubscribe]").wait_for(state="visible")
        await _shot(page, "profil-notifications-390")
        assert await _axe(page) == []
        [stored] = await PushSubscription.select(PushSubscription.endpoint)
        assert stored["endpoint"] == subscription["endpoint"]

        # The structure cancels Wednesday's outing for the ALSH families (dupont chose
        # push for messages in the demo).
        structure = (
            await Structure.select(Structure.id).where(Structure.slug == "carteville").first()
        )
        assert structure is not None
        activity = (
            await Activity.select(Activity.id)
            .where((Activity.structure == structure["id"]) & Activity.name.like("%Mercredi%"))
            .first()
        )
        assert activity is not None
        sent = await messages.broadcast(
            int(structure["id"]), 1, Audience(int(activity["id"]), None),
            "Sortie au zoo annulée demain : prévoyez un pique-nique pour le centre.",
            base_url=demo_server.url,
        )  # fmt: skip
        assert sent.families >= 1
        # The commit woke the push relay (the live server's embedded Dramatiq worker).
        for _ in range(200):
            if push_service.received:
                break
            await asyncio.sleep(0.05)
        [received] = [r for r in push_service.received if r.path == "/push/telephone"]
        clear = http_ece.decrypt(
            received.body, private_key=keys.private_key, auth_secret=keys.auth, version="aes128gcm"
        )
        assert "Sortie au zoo annulée" in json.loads(clear)["body"]

        await page.goto(demo_server.url + "/")
        await page.locator("[data-menu-toggle]").click()
        badge = page.locator("#navigation a[href='/messages'] .nav-badge")
        assert await badge.text_content() == "2 non lus"
        await page.locator("#navigation a[href='/messages']").click()
        await page.wait_for_load_state()
        last = page.locator("#dernier")
        assert "Sortie au zoo annulée demain" in await last.inner_text()
        assert "Nouveau" in await last.inner_text()
        await _shot(page, "messages-390")
        assert await _axe(page) == []
    finally:
        await context.close()
    assert not errors, errors
