"""Parent screens measured in a real browser (issue "screens a parent never has to think
about"): layout stability (CLS from the PerformanceObserver's layout-shift entries), bytes on
the wire of a first load (DevTools Network events), the phone header, at phone and desktop
sizes. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from portal.tables import Person
from tests.e2e.conftest import ARTIFACTS, VIEWPORTS, Journey

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

MAX_CLS = 0.1
MAX_FIRST_LOAD_BYTES = 60 * 1024

PUBLIC_PAGES = ["/connexion", "/mot-de-passe-oublie", "/accessibilite", "/mentions"]
PARENT_PAGES = [
    "/",
    "/reservations",
    "/reservations/recapitulatif",
    "/reservations/importer",
    "/suivi",
    "/historiques",
    "/paiement",
    "/profil",
    "/premiere-connexion/reglement",
]

# Cumulative layout shift of the page so far (buffered entries since navigation start),
# counted as Lighthouse does: shifts right after an input do not count.
CLS_SCRIPT = """() => new Promise((resolve) => {
  let total = 0;
  const shifts = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (!entry.hadRecentInput) {
        total += entry.value;
        shifts.push({value: entry.value, nodes: (entry.sources || []).map(
          (s) => s.node ? (s.node.className || s.node.nodeName) : '?')});
      }
    }
  });
  observer.observe({type: 'layout-shift', buffered: true});
  requestAnimationFrame(() => requestAnimationFrame(() => {
    setTimeout(() => { observer.disconnect(); resolve({total, shifts}); }, 300);
  }));
})"""


def _size(journey: Journey) -> str:
    return journey.name.rsplit("-", 1)[-1]


async def first_load(
    journey: Journey, path: str, *, logged_in: bool
) -> tuple[float, int, dict[str, int], Page, BrowserContext]:
    """Open `path` in a fresh context (empty HTTP cache) with the journey's cookies; return
    the CLS, the bytes received for every response of the page, and the page."""
    browser = journey.context.browser
    assert browser is not None
    state: Any = await journey.context.storage_state() if logged_in else None
    context = await browser.new_context(
        locale="fr-FR", storage_state=state, **VIEWPORTS[_size(journey)]
    )
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    urls: dict[str, str] = {}
    received: dict[str, int] = {}
    cdp.on(
        "Network.responseReceived", lambda e: urls.__setitem__(e["requestId"], e["response"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: received.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    response = await page.goto(journey.base_url + path, wait_until="load")
    assert response is not None and response.ok, (path, response and response.status)
    await page.wait_for_load_state("networkidle")
    cls = await page.evaluate(CLS_SCRIPT)
    by_url = {
        urls.get(key, key).removeprefix(journey.base_url): size for key, size in received.items()
    }
    return float(cls["total"]), sum(received.values()), by_url, page, context


async def test_pages_do_not_shift_and_stay_light(journey: Journey) -> None:
    report: list[str] = []
    failures: list[str] = []

    async def measure(path: str, *, logged_in: bool) -> None:
        cls, total, by_url, _page, context = await first_load(journey, path, logged_in=logged_in)
        try:
            report.append(f"{path}: CLS {cls:.3f}, {total} octets")
            if cls >= MAX_CLS:
                failures.append(f"{path}: CLS {cls:.3f} >= {MAX_CLS}")
            if total > MAX_FIRST_LOAD_BYTES:
                failures.append(f"{path}: {total} octets > {MAX_FIRST_LOAD_BYTES} ({by_url})")
            # The static files come compressed or as small images.
            assert any(url.startswith("/static/app.css") for url in by_url), by_url
        finally:
            await context.close()

    for path in PUBLIC_PAGES:
        await measure(path, logged_in=False)
    await journey.login("dupont", "Demo-Dupont-2026")
    for path in PARENT_PAGES:
        await measure(path, logged_in=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{journey.name}-mesures.txt").write_text("\n".join(report) + "\n")
    assert not failures, "\n".join(failures)


async def test_phone_header_shows_who_and_where(journey: Journey) -> None:
    page = journey.page
    await journey.login("dupont", "Demo-Dupont-2026")
    name = page.locator(".site-header .account-name")
    structure = page.locator(".site-header .structure-name").first
    await journey.shot("entete")
    # Without opening anything, on a phone as on a desktop.
    assert await name.is_visible() and "DUPONT Jean-Paul" in await name.inner_text()
    toggle = page.locator("[data-menu-toggle]")
    if _size(journey) == "phone":
        assert await structure.is_visible()
        assert (await structure.inner_text()).endswith("Mairie de CarteVille")
        assert not await page.locator("#navigation").is_visible()
        assert not await page.get_by_role("button", name="Déconnexion").is_visible()
        box = await page.locator("main").bounding_box()
        assert box is not None and box["y"] < 200, box  # the fold did not push the page down
        await toggle.click()
        assert await page.locator("#navigation").is_visible()
        assert await page.get_by_role("button", name="Déconnexion").is_visible()
        await journey.shot("entete-menu-ouvert")
    else:  # the account block is in the bar; Dupont's two structures are in the switcher
        switcher = page.locator("#structure-select")
        assert await switcher.is_visible()
        assert await switcher.locator("option:checked").inner_text() == "Mairie de CarteVille"
        assert not await toggle.is_visible()
        assert await page.locator("#navigation").is_visible()


async def _column_labels(page: Page, table: str) -> list[str]:
    return [t.strip() for t in await page.locator(f"{table} thead th").all_inner_texts()]


async def test_histories_print_seed_columns_and_compact_rows(journey: Journey) -> None:
    page = journey.page
    await journey.login("dupont", "Demo-Dupont-2026")
    await journey.goto("/historiques")
    # Opens on the latest month that has lines (the 1st of a month has none yet).
    assert await page.locator(".history-table--consumptions tbody tr").count() > 10
    assert await page.get_by_role("button", name="Imprimer").is_visible()
    await journey.shot("historiques")
    for table, kind in (
        (".history-table--consumptions", "consommations"),
        (".history-table--payments", "règlements"),
    ):
        on_screen = await _column_labels(page, table)
        link = page.get_by_role("link", name=f"Exporter les {kind} (CSV)")
        csv = await page.request.get(journey.base_url + str(await link.get_attribute("href")))
        header = (await csv.text()).lstrip("\ufeff").splitlines()[0].split(";")
        assert header == on_screen, (kind, header, on_screen)
    assert await _column_labels(page, ".history-table--payments") == [
        "Date Règl",
        "Mode règlement",
        "N° Pièce",
        "Nom payeur",
        "Nom Banque",
        "Montant (€)",
    ]
    banks = await page.locator(".history-table--payments tbody tr").evaluate_all(
        "(rows) => rows.filter((r) => r.cells[1].textContent.trim() === 'Carte bancaire, en ligne')"
        ".map((r) => r.cells[4].textContent.trim())"
    )
    assert banks and set(banks) == {"Paiement en ligne"}, banks
    rows = page.locator(".history-table--consumptions tbody tr")
    first = await rows.first.bounding_box()
    assert first is not None
    if _size(journey) == "phone":
        # Two short lines per consumption, and the month's total before the lines.
        assert first["height"] < 70, first
        total = page.locator(".history-total").first
        assert await total.is_visible() and "TOTAL" in await total.inner_text()
        total_box = await total.bounding_box()
        assert total_box is not None and total_box["y"] < first["y"]
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.locator("#consumptions-title").scroll_into_view_if_needed()
    await page.screenshot(path=str(ARTIFACTS / f"{journey.name}-lignes-ecran.png"))
    await page.emulate_media(media="print")
    await journey.shot("historiques-impression")
    assert "Historiques de" in await page.locator("main").inner_text()
    await page.emulate_media(media="screen")


async def test_tracking_shows_ids_and_prints_its_selection(journey: Journey) -> None:
    page = journey.page
    await journey.login("dupont", "Demo-Dupont-2026")
    await journey.goto("/suivi?personne=&du=2026-01-01&type=liste-attente&type=acceptees")
    labels = await _column_labels(page, "#tracking-table")
    assert labels[0] == "ID" and labels[1] == "Date"
    ids = await page.locator("#tracking-table tbody td.tracking-id").all_inner_texts()
    assert ids and all(re.fullmatch(r"\d{6}", i) for i in ids), ids[:5]
    assert len(set(ids)) == len(ids)
    summary = page.locator("#tracking-filters-summary")
    assert not await summary.is_visible()  # on screen the form says it already
    await journey.shot("suivi")
    await page.emulate_media(media="print")
    assert await summary.is_visible()
    printed = await summary.inner_text()
    assert "à partir du 01/01/2026" in printed
    assert "en liste d'attente, acceptées" in printed and "Personne : toutes" in printed
    await journey.shot("suivi-impression")
    await page.emulate_media(media="screen")


async def _top(page: Page, selector: str) -> float:
    box = await page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return float(box["y"])


async def test_home_is_the_parents_dashboard(journey: Journey) -> None:
    page = journey.page
    await journey.login("martin", "Demo-Martin-2026")
    await journey.shot("accueil-martin")
    nav = await page.locator("#navigation a").all_inner_texts()
    assert nav[:2] == ["Accueil", "Réservations"], nav
    money = page.locator(".dashboard__money")
    assert "Services Scolaires et ALSH" in await money.inner_text()
    assert "-" in await money.locator(".amount--negative").first.inner_text()
    assert await money.get_by_role("link", name="Payer en ligne").is_visible()
    waiting = page.locator(".dashboard__waiting")
    assert await waiting.locator(".dashboard-waiting__item--debt").count() >= 1
    # In the issue's order: money, next bookings, what waits, then the news.
    tops = [
        await _top(page, s)
        for s in (".dashboard__money", ".dashboard__next", ".dashboard__waiting", "#news-title")
    ]
    assert tops[0] <= tops[1] < tops[2] < tops[3], tops

    await journey.open_menu()
    await page.get_by_role("button", name="Déconnexion").click()
    await page.wait_for_load_state()
    await journey.login("dupont", "Demo-Dupont-2026")
    children = await page.locator(".dashboard__next h3").all_inner_texts()
    assert sorted(children) == ["Amalia", "Paolo"], children
    assert await page.locator(".dashboard__next .dashboard-bookings li").count() >= 2
    assert (
        not await page.locator(".dashboard__money")
        .get_by_role("link", name="Payer en ligne")
        .count()
    )
    await journey.shot("accueil-dupont")


async def test_rules_fiche_shows_the_moment_and_the_other_children(journey: Journey) -> None:
    page = journey.page
    dupont = await Person.objects().where(Person.first_name == "Paolo").first()
    assert dupont is not None
    zoe = Person(family=dupont.family, first_name="Zoé", last_name="DUPONT")
    await zoe.save()
    await journey.login("dupont", "Demo-Dupont-2026")
    waiting = page.locator(".dashboard-waiting__item--rules")
    assert "Zoé" in await waiting.inner_text()
    await waiting.get_by_role("link", name="Lire et signer le règlement").click()
    await page.wait_for_load_state()
    # Zoé's fiche first, with the moment the signature will carry, before signing.
    assert "Zoé DUPONT" in await page.locator("h2.card__title").last.inner_text()
    moment = await page.locator("#signature-moment").inner_text()
    assert re.search(r"Date et heure de signature : \w+ \d{1,2} \w+ \d{4} à \d\d:\d\d", moment)
    others = page.locator(".rules-children__item")
    assert await others.count() == 2
    assert re.search(r"signé le \w+ \d{1,2} \w+ \d{4} à \d\d:\d\d", await others.first.inner_text())
    await journey.shot("reglement-avant-signature")
    await page.get_by_label("J'atteste avoir pris connaissance").check()
    await page.fill("#f-place", "CarteVille")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Signer pour Zoé").click()
    flash = await page.locator("main .notice").first.inner_text()
    assert re.search(r"Règlement signé pour Zoé le \w+ \d{1,2} \w+ \d{4} à \d\d:\d\d", flash), flash
    await journey.goto(f"/premiere-connexion/reglement?enfant={zoe.id}")
    done = await page.locator("#signature-done").inner_text()
    assert re.search(
        r"le \w+ \d{1,2} \w+ \d{4} à \d\d:\d\d, par DUPONT Jean-Paul à CarteVille", done
    )
    await journey.shot("reglement-apres-signature")
    # "Accéder à la fiche" of another child shows that child's signature.
    async with page.expect_navigation():
        await page.locator(".rules-children__item").first.get_by_role("link").click()
    assert await page.locator("#signature-done").is_visible()
    assert "Zoé" in await page.locator(".rules-children").inner_text()


async def test_text_zoom_200_keeps_the_calendar_within_the_screen(journey: Journey) -> None:
    """Browser default font at 32 px (text-only zoom 200 %): the month calendar, in both
    modes, fits a 320 px wide phone (and the desktop) without horizontal scrolling."""
    browser = journey.context.browser
    assert browser is not None
    width = 320 if _size(journey) == "phone" else 1366
    context = await browser.new_context(
        locale="fr-FR", viewport={"width": width, "height": 700}, storage_state=None
    )
    try:
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Page.enable")
        await cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 32}})
        zoomed = Journey(context, page, journey.base_url, f"{journey.name}-texte-200")
        await zoomed.login("dupont", "Demo-Dupont-2026")
        font = await page.evaluate("getComputedStyle(document.documentElement).fontSize")
        assert font == "32px", font
        for label in ("toutes-activites", "une-activite"):
            if label == "une-activite":
                await page.select_option("#activity-select", label="Restauration Scolaire")
                await page.wait_for_selector(".calendar__week-toggle")
                await zoomed.settled()
            else:
                await zoomed.goto("/reservations")
            scroll = await page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, (label, scroll)
            cells = await page.locator(".calendar__day:not(.calendar__day--outside)").all()
            assert cells
            for cell in cells[:40]:
                box = await cell.bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
            await page.evaluate("document.querySelector('.calendar').scrollIntoView()")
            await page.screenshot(path=str(ARTIFACTS / f"{zoomed.name}-{label}.png"))
    finally:
        await context.close()


HEARD = """(selector) => Array.from(document.querySelectorAll(selector)).map((el) => {
  const heard = el.cloneNode(true);
  heard.querySelectorAll('[aria-hidden="true"]').forEach((n) => n.remove());
  return heard.textContent.replace(/\\s+/g, ' ').trim();
})"""

# What a state looks like without its words: glyph, colours, pattern and border.
LOOKS = """(selector) => Array.from(document.querySelectorAll(selector)).map((el) => {
  const style = getComputedStyle(el);
  return {
    state: Array.from(el.classList).filter((c) => c.startsWith('calendar__day--')).join(' '),
    looks: [el.textContent.trim(), style.backgroundColor, style.backgroundImage,
            style.borderTopStyle, style.borderTopColor].join(' | '),
  };
})"""


async def _distinct_states(page: Page, selector: str) -> int:
    looks = await page.evaluate(LOOKS, selector)
    by_state: dict[str, str] = {}
    for item in looks:
        by_state.setdefault(item["state"], item["looks"])
    assert len(set(by_state.values())) == len(by_state), by_state
    return len(by_state)


async def _board(journey: Journey, query: str) -> None:
    await journey.goto(f"/reservations?{query}")
    await journey.settled()


async def test_calendar_states_tools_names_and_day_order(journey: Journey) -> None:
    page = journey.page
    await journey.login("dupont", "Demo-Dupont-2026")
    await _board(journey, "activite=tous")
    # The aggregate states, « absence signalée » included, each its own glyph and look (the
    # legend draws them like the days).
    assert await _distinct_states(page, ".calendar-legend .calendar__swatch") == 11
    names = await page.evaluate(HEARD, "a.calendar__day")
    assert names
    for name in names:
        # "lundi 7 décembre 2026 : réservé (Restauration Scolaire), libre (Accueil Soir…)"
        assert re.search(r"\d{4} : [a-zà].*\(.+\)", name), name
        assert " ," not in name and "Vous avez" not in name, name
    # Rendered days in different states never look the same.
    await _distinct_states(page, ".calendar .calendar__day:not(.calendar__day--outside)")
    await journey.shot("calendrier-etats")

    # The day list of "toutes les activités" in time order.
    await page.locator("a.calendar__day--booked, a.calendar__day--available").first.click()
    await page.wait_for_selector(".day-list__item")
    await journey.settled()
    hours = [
        t.split(" – ")[0][-5:]
        for t in await page.locator(".day-list__text > span:first-of-type").all_inner_texts()
    ]
    assert len(hours) >= 2 and hours == sorted(hours), hours
    await journey.shot("liste-du-jour-horaires")

    await page.goto(journey.base_url + "/reservations?activite=tous")
    await page.select_option("#activity-select", label="Restauration Scolaire")
    await page.wait_for_selector(".calendar__week-toggle")
    await journey.settled()
    assert await _distinct_states(page, ".calendar-legend .calendar__swatch") == 11
    tools = await page.locator(".calendar__week-toggle").evaluate_all(
        "(bs) => bs.map((b) => b.getAttribute('aria-label'))"
    )
    said = r"Sem\. : (réserver|annuler|rien à réserver ni à annuler) la semaine du "
    assert tools and all(re.match(said, t) for t in tools), tools
    month_tool = await page.locator(".quick-tools button").inner_text()
    assert month_tool in (
        "Réserver tout le mois",
        "Annuler tout le mois",
        "Tout le mois : rien à réserver ni à annuler",
    )
    weekday_tools = await page.locator(".calendar__weekday-toggle").evaluate_all(
        "(bs) => bs.map((b) => b.getAttribute('aria-label'))"
    )
    assert all(re.search(r"(réserver|annuler) tous les|rien à", t) for t in weekday_tools)
    names = await page.evaluate(HEARD, ".calendar__day:not(.calendar__day--outside)")
    assert any("(Restauration Scolaire)" in n for n in names)
    assert not [n for n in names if " ," in n or "Activité réservée" in n]
    await journey.shot("calendrier-outils")


async def test_modify_and_abandon_return_to_the_same_calendar(journey: Journey) -> None:
    page = journey.page
    await journey.login("dupont", "Demo-Dupont-2026")
    await _board(journey, "activite=tous")
    amalia = page.get_by_role("link", name="Amalia", exact=True)
    # The tab swaps the whole board: a change made on the old select before that swap lands
    # would be answered into a detached element and lost.
    async with page.expect_response(lambda r: "personne=" in r.url):
        await amalia.click()
    await journey.settled()
    await expect_current(page, "Amalia")
    await page.select_option("#activity-select", label="Restauration Scolaire")
    await page.wait_for_selector(".calendar__week-toggle")
    await journey.settled()
    title = await page.locator("#month-title").inner_text()
    await page.get_by_role("link", name="Mois suivant").click()
    await page.wait_for_function(
        "(t) => document.querySelector('#month-title').innerText !== t", arg=title
    )
    await journey.settled()
    month = await page.locator("#month-title").inner_text()
    free = page.locator("button.calendar__day--available:not(.calendar__day--draft-book)")
    await free.first.click()
    await page.wait_for_selector("#basket-bar .button")
    await journey.settled()
    async with page.expect_navigation():
        await page.locator("#basket-bar").get_by_role("link", name="Valider").click()
    async with page.expect_navigation():
        await page.get_by_role("link", name="Modifier").click()
    assert "activite=" in page.url and "mois=" in page.url, page.url
    assert await page.locator("#month-title").inner_text() == month
    chosen = await page.locator("#activity-select option:checked").inner_text()
    assert chosen.strip() == "Restauration Scolaire"
    await expect_current(page, "Amalia")
    await journey.shot("modifier-meme-calendrier")
    async with page.expect_navigation():
        await page.locator("#basket-bar").get_by_role("button", name="Abandonner").click()
    assert (
        "Vos demandes non validées ont été abandonnées" in await page.locator("main").inner_text()
    )
    assert await page.locator("#month-title").inner_text() == month
    chosen = await page.locator("#activity-select option:checked").inner_text()
    assert chosen.strip() == "Restauration Scolaire"
    await expect_current(page, "Amalia")


async def expect_current(page: Page, child: str) -> None:
    current = page.locator(f'.child-tabs a[aria-current="true"]:has-text("{child}")')
    await current.wait_for(timeout=10_000)


async def test_blocked_family_sees_a_read_only_calendar(journey: Journey) -> None:
    page = journey.page
    await journey.login("martin", "Demo-Martin-2026")
    await _board(journey, "activite=tous")
    main = await page.locator("main").inner_text()
    assert "Réservations impossibles" in main
    notice = page.locator("main .notice--warning").first
    assert await notice.get_by_role("link").count() >= 1  # the way out: pay, sign, complete
    assert await page.locator("#calendar-read-only").is_visible()
    assert await page.locator(".calendar__day").count() > 20  # the calendar is still shown
    assert not await page.locator("button.calendar__day").count()
    await journey.shot("calendrier-lecture-seule")
    await page.select_option("#activity-select", label="Restauration Scolaire")
    await page.wait_for_selector(".activity-hours")
    await journey.settled()
    assert not await page.locator("button.calendar__day").count()
    assert not await page.locator(".calendar__week-toggle, .quick-tools button").count()


async def _euros(text: str) -> int:
    digits = re.sub(r"[^\d]", "", text)
    return int(digits or 0)


async def test_times_for_several_days_show_days_and_costs(journey: Journey) -> None:
    page = journey.page
    await journey.login("dupont", "Demo-Dupont-2026")
    # From a day's list: the times page for that day, then back to that day.
    await _board(journey, "activite=tous")
    days = page.locator("a.calendar__day--available, a.calendar__day--booked")
    found = False
    for index in range(min(await days.count(), 8)):
        href = str(await days.nth(index).get_attribute("href"))
        await journey.goto(href)
        book = page.get_by_role("button", name=re.compile(r"Réserver.*Accueil Soir"))
        if await book.count():
            found = True
            break
    assert found, "aucun jour où réserver l'accueil du soir"
    day_path = href.split("?")[0]
    async with page.expect_navigation(url=re.compile(r"/reservations/horaires")):
        await book.first.click()
    assert "depuis=" in page.url
    rows = page.locator("#times-cost-table tbody tr")
    assert await rows.count() == 1
    before = await page.locator("#times-cost-table tfoot td").inner_text()
    await page.select_option("#f-depart", index=0)
    await expect(page.locator("#times-cost-table tfoot td")).not_to_have_text(before)
    await journey.shot("horaires-un-jour")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Ajouter à mes demandes").click()
    assert day_path in page.url, page.url  # back to the day it came from
    assert await page.locator(".day-list__item").count() >= 1

    # Several days at once (a week tool): each day listed with its cost, and the total.
    await journey.goto("/reservations?activite=tous")
    await page.select_option("#activity-select", label="Accueil Soir 1/2 heure")
    await page.wait_for_selector(".calendar__week-toggle")
    await journey.settled()
    weeks = page.locator("button.calendar__week-toggle.quick-tool--book")
    for _ in range(3):
        if await weeks.count():
            break
        await page.get_by_role("link", name="Mois suivant").click()
        await page.wait_for_timeout(500)
        await journey.settled()
    assert await weeks.count(), "aucune semaine à réserver"
    async with page.expect_navigation(url=re.compile(r"/reservations/horaires")):
        await weeks.first.click()
    count = await rows.count()
    assert count > 1
    assert f"ces {count} jours" in await page.locator("#times-cost-title").inner_text()
    costs = [await _euros(t) for t in await rows.locator("td.num").all_inner_texts()]
    total = await _euros(await page.locator("#times-cost-table tfoot td").inner_text())
    assert total == sum(costs) > 0, (costs, total)
    await journey.shot("horaires-plusieurs-jours")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Ajouter à mes demandes").click()
    # One demand from the day's list above, then one per day of the week.
    assert f"{count + 1} demandes non validées" in await page.locator("#basket-bar").inner_text()
