"""Opening day in a browser (phone): DUPONT prepares his basket before the opening of the
winter holidays' draw, the clock passes the opening, he confirms and sees « en attente du
tirage au sort », the allocation runs, and Suivi shows the outcome."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from portal import clock
from portal.domain.periods.allocate import allocate_period
from portal.tables import Activity, ActivityDay, BookingPeriod, Person
from tests.e2e.conftest import ARTIFACTS, VIEWPORTS, settled
from tests.web.conftest import LiveServer


async def test_dupont_prepares_confirms_and_gets_the_draw(
    chromium: Browser, demo_server: LiveServer
) -> None:
    period = await BookingPeriod.objects().get(BookingPeriod.mode == "lottery")
    assert period is not None and period.window_ends_at is not None
    paolo = await Person.objects().get(Person.first_name == "Paolo")
    alsh = await Activity.objects().get(Activity.name.like("ALSH%"))
    assert paolo is not None and alsh is not None
    day = await (
        ActivityDay.objects()
        .where(
            (ActivityDay.activity == alsh.id)
            & (ActivityDay.day >= period.first_day)
            & (ActivityDay.day <= period.last_day)
            & (ActivityDay.is_open == True)  # noqa: E712
        )
        .order_by(ActivityDay.day)
        .first()
    )
    assert day is not None
    iso = clock.as_date(day.day).isoformat()
    calendar = f"/reservations?personne={paolo.id}&activite={alsh.id}&mois={iso[:7]}"
    context = await chromium.new_context(locale="fr-FR", **VIEWPORTS["phone"])  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = demo_server.url
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        await page.goto(base + "/connexion")
        await page.fill("#f-identifier", "dupont")
        await page.fill("#f-password", "Demo-Dupont-2026")
        await page.click("button[type=submit]")
        await page.wait_for_load_state()
        await page.goto(base + calendar)
        notice = page.locator(f"#periode-{period.id}")
        await expect(notice).to_contain_text("ouverture le")
        await expect(notice).to_contain_text("à 08:30")
        before = await page.locator("#basket-bar").inner_text()
        await page.locator(f"#jour-{iso} button").click()
        await expect(page.locator("#basket-bar")).not_to_have_text(before)
        await settled(page)
        await page.screenshot(path=str(ARTIFACTS / "period-journey-01-panier.png"), full_page=True)

        # The opening instant passes; the page is still the one loaded before it.
        clock.shift((period.opens_at - clock.utcnow()).total_seconds() + 60)
        await page.get_by_role("link", name="Valider").click()
        await page.wait_for_load_state()
        await page.get_by_role("button", name="Valider").click()
        await page.wait_for_load_state()
        await expect(page.locator("main")).to_contain_text("En attente du tirage au sort du")
        await page.screenshot(
            path=str(ARTIFACTS / "period-journey-02-resultat.png"), full_page=True
        )
        await page.goto(base + "/suivi")
        await expect(page.locator("#period-requests")).to_contain_text("En attente du tirage")

        # The window ends and the allocation runs (the sweep's actor calls the same).
        clock.shift((period.window_ends_at - clock.utcnow()).total_seconds() + 60)
        outcome = await allocate_period(period.id, base_url=base)
        assert outcome.accepted >= 1
        await page.goto(base + f"/suivi?du={iso}&au={iso}")
        await expect(page.locator("#period-requests")).to_have_count(0)
        await expect(page.locator("#tracking-table")).to_contain_text("Acceptée")
        await page.screenshot(path=str(ARTIFACTS / "period-journey-03-suivi.png"), full_page=True)
    finally:
        await context.close()
        clock.reset()
    assert not errors, f"erreurs dans le navigateur : {errors}"
