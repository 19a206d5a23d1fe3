"""One short phone journey of the parents' tools: apply a saved semaine type, confirm it,
then declare a sick day with a photo of the certificate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser

from portal import clock
from portal.domain.booking.scope import load_scope
from portal.domain.week_pattern import service as patterns
from portal.domain.week_pattern.rules import Pattern
from portal.tables import AbsenceDeclaration, Reservation
from tests.conftest import Database, SmtpSink, make_settings
from tests.e2e.conftest import VIEWPORTS, Journey
from tests.e2e.test_accessibility import Auditor
from tests.factories import PASSWORD, enroll, make_activity, make_days, make_family
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

SHOTS = Path("/work/shots/helper-16b")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def small_server(
    db: Database, tmp_path: Path, smtp_server: SmtpSink
) -> AsyncIterator[LiveServer]:
    """A family with a saved pattern, on a small base (the full demo takes longer to load)."""
    setup = await make_family(login="dupont", children=("Paolo",))
    canteen = await make_activity(
        setup.structure, "Restauration Scolaire", capacity=None, start=time(11, 45),
        end=time(13, 30), price_cents=380,
    )  # fmt: skip
    alsh = await make_activity(setup.structure, "ALSH 6-12 - Mercredi Journée", capacity=10)
    today = clock.local_today("Europe/Paris")
    monday = today + timedelta(days=7 - today.weekday())
    days = [monday + timedelta(days=i) for i in range(28) if (monday + timedelta(i)).weekday() < 5]
    await make_days(canteen, *[d for d in days if d.weekday() != 2])
    await make_days(alsh, *[d for d in days if d.weekday() == 2])
    await enroll(setup.people, canteen, alsh)
    scope = await load_scope(setup.family.id)
    pattern = Pattern({canteen.id: frozenset({0, 1, 3, 4}), alsh.id: frozenset({2})})
    await patterns.save_pattern(scope, setup.people[0].id, "Année scolaire", pattern)
    settings = make_settings(
        tmp_path, db.url, PORTAL_SMTP_HOST=smtp_server.host, PORTAL_SMTP_PORT=smtp_server.port
    )
    async with LiveServer(settings, db) as server:
        yield server


async def test_apply_a_semaine_type_then_declare_a_sick_day(
    chromium: Browser, small_server: LiveServer, tmp_path: Path
) -> None:
    context = await chromium.new_context(locale="fr-FR", **VIEWPORTS["phone"])  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    journey = Journey(context, page, small_server.url, "parent-tools-phone")
    audit = Auditor(journey)
    await journey.login("dupont", PASSWORD)

    await journey.goto("/reservations")
    await page.get_by_role("link", name="Semaine type").click()
    await page.wait_for_load_state()
    await audit.check("semaine-type", shot=False)
    await page.get_by_role("button", name="Appliquer « Année scolaire »").click()
    await page.wait_for_load_state()
    main = await page.locator("main").inner_text()
    assert "20 jours ajoutés à vos demandes non validées" in main, main
    await audit.check("semaine-type-appliquee", shot=False)
    SHOTS.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once)
    await page.screenshot(path=str(SHOTS / "semaine-type-390.png"), full_page=True)
    await page.get_by_role("link", name="Voir le récapitulatif et valider").click()
    await page.wait_for_load_state()
    await page.locator("form[action='/reservations/valider'] button[type=submit]").click()
    await page.wait_for_load_state()
    assert await Reservation.count().where(Reservation.status == "accepted") == 20

    await journey.goto("/")
    await page.get_by_role("link", name="Signaler une absence").click()
    await page.wait_for_load_state()
    await audit.check("signaler-une-absence", shot=False)
    await page.locator("input[name=reservation]").first.check()
    await page.fill("#f-message", "Fièvre depuis hier soir")
    await page.set_input_files(
        "#f-photo", files=[{"name": "certificat.png", "mimeType": "image/png", "buffer": PNG}]
    )
    await page.screenshot(path=str(SHOTS / "absence-390.png"), full_page=True)
    await page.get_by_role("button", name="Signaler l'absence").click()
    await page.wait_for_load_state()
    main = await page.locator("main").inner_text()
    assert "Absence de Paolo signalée" in main, main
    assert "Absence signalée, en attente" in main
    [declaration] = await AbsenceDeclaration.objects()
    assert declaration.certificate_type == "image/png"
    await page.screenshot(path=str(SHOTS / "absence-signalee-390.png"), full_page=True)
    await journey.goto("/agenda")
    await audit.check("agenda", shot=False)
    await context.close()
    assert not errors, errors
    audit.assert_clean()
