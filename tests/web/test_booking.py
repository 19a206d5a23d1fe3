"""Booking through real HTTP: taps, quick tools, time entry, recap, confirmation, tracking."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from portal import clock
from portal.tables import Activity, ActivityDay, LedgerEntry, Reservation, Wallet, WalletType
from tests.conftest import Database
from tests.factories import (
    PASSWORD,
    FamilySetup,
    enroll,
    make_activity,
    make_days,
    make_family,
)
from tests.web.conftest import Browser, text


def next_weekday(weekday: int, weeks_ahead: int = 3) -> date:
    today = clock.local_today("Europe/Paris")
    start = today + timedelta(weeks=weeks_ahead)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


async def dupont_on_one_day(browser: Browser) -> tuple[FamilySetup, Activity, date]:
    """DUPONT (Paolo alone) enrolled on one activity open on one Wednesday three weeks
    ahead, logged in."""
    setup = await make_family(login="dupont", children=("Paolo",))
    day = next_weekday(2, 3)
    activity = await make_activity(setup.structure)
    await make_days(activity, day)
    await enroll(setup.people, activity)
    await browser.login("dupont", PASSWORD)
    return setup, activity, day


async def tap(
    browser: Browser, setup: FamilySetup, person: int, activity: int, target: str, day: date
):
    return await browser.submit(
        "/reservations/basculer",
        {
            "personne": str(setup.people[person].id),
            "activite": str(activity),
            "mois": month_of(day),
            "cible": target,
        },
        page=f"/reservations?personne={setup.people[person].id}&activite={activity}&mois={month_of(day)}",
    )


async def test_book_waitlist_and_track_without_javascript(db: Database, browser: Browser) -> None:
    setup = await make_family(login="dupont", children=("Amalia",))
    other = await make_family(
        login="autre", structure=setup.structure, children=("Léa",), name="MARTIN S"
    )
    wednesdays = [next_weekday(2, w) for w in (3, 4, 5)]
    activity = await make_activity(
        setup.structure, "3-6 ans - Mercredi Matin", capacity=1, waitlist=2, price_cents=650
    )
    days = await make_days(activity, *wednesdays)
    await enroll(setup.people + other.people, activity)
    # The first Wednesday is already taken by another family: Amalia goes on its waitlist.
    await ActivityDay.update({ActivityDay.accepted_count: 1}).where(ActivityDay.id == days[0].id)
    await Reservation(
        family=other.family.id,
        person=other.people[0].id,
        activity_day=days[0].id,
        status="accepted",
    ).save()

    await browser.login("dupont", PASSWORD)
    page = await browser.get(
        f"/reservations?personne={setup.people[0].id}&activite={activity.id}&mois={month_of(wednesdays[0])}"
    )
    assert page.status_code == 200
    assert "Activité disponible uniquement en liste d'attente" in text(page)
    for day in wednesdays:
        if day.month == wednesdays[0].month:
            response = await tap(browser, setup, 0, activity.id, f"jour:{day.isoformat()}", day)
            assert response.status_code == 303
    for day in wednesdays:
        if day.month != wednesdays[0].month:
            await tap(browser, setup, 0, activity.id, f"jour:{day.isoformat()}", day)

    recap = text(await browser.get("/reservations/recapitulatif"))
    assert recap.count("3-6 ans - Mercredi Matin") == 3
    assert "19,50" in recap  # 3 × 6,50 €
    assert await Reservation.count().where(Reservation.person == setup.people[0].id) == 0

    done = await browser.submit("/reservations/valider", {}, page="/reservations/recapitulatif")
    assert done.headers["location"] == "/reservations/resultat"
    result = text(await browser.get("/reservations/resultat"))
    assert "Mise en liste d'attente (rang 1)" in result
    assert "2 réservations acceptées" in result

    rows = {
        r.activity_day: r
        for r in await Reservation.objects().where(Reservation.person == setup.people[0].id)
    }
    assert rows[days[0].id].status == "waitlisted" and rows[days[0].id].waitlist_rank == 1
    assert rows[days[1].id].status == rows[days[2].id].status == "accepted"

    tracking = text(await browser.get("/suivi"))
    assert "Liste d'attente (rang 1), non transmise" in tracking
    assert tracking.count("Acceptée, non transmise") == 2
    only_waitlist = text(await browser.get("/suivi?type=liste-attente"))
    assert "Acceptée, non transmise" not in only_waitlist
    assert "Liste d'attente (rang 1)" in only_waitlist


async def test_quick_tool_books_a_week_then_cancels_it(db: Database, browser: Browser) -> None:
    setup = await make_family(login="dupont", children=("Paolo",))
    monday = next_weekday(0, 3)
    school_days = [monday + timedelta(days=d) for d in (0, 1, 3, 4)]
    canteen = await make_activity(
        setup.structure,
        "Restauration Scolaire",
        capacity=None,
        waitlist=0,
        start=time(11, 30),
        end=time(13, 30),
        price_cents=422,
    )
    await make_days(canteen, *school_days)
    await enroll(setup.people, canteen)
    await browser.login("dupont", PASSWORD)
    await tap(browser, setup, 0, canteen.id, f"semaine:{monday.isoformat()}", monday)
    recap = text(await browser.get("/reservations/recapitulatif"))
    assert recap.count("Restauration Scolaire") == 4
    assert "16,88" in recap
    await browser.submit("/reservations/valider", {}, page="/reservations/recapitulatif")
    assert await Reservation.count().where(Reservation.status == "accepted") == 4
    # Same tool again: the first day is booked, so the whole week is cancelled.
    await tap(browser, setup, 0, canteen.id, f"semaine:{monday.isoformat()}", monday)
    recap = text(await browser.get("/reservations/recapitulatif"))
    assert "Annulations demandées" in recap
    await browser.submit("/reservations/valider", {}, page="/reservations/recapitulatif")
    assert await Reservation.count().where(Reservation.status == "cancelled") == 4


async def test_htmx_tap_returns_the_changed_day_and_basket(db: Database, browser: Browser) -> None:
    setup, activity, day = await dupont_on_one_day(browser)
    await browser.get("/reservations")
    response = await browser.post(
        "/reservations/basculer",
        data={
            "personne": str(setup.people[0].id),
            "activite": str(activity.id),
            "mois": month_of(day),
            "cible": f"jour:{day.isoformat()}",
            "_csrf_token": browser.last_csrf or "",
        },
        headers={"hx-request": "true"},
    )
    assert response.status_code == 200
    body = text(response)
    # Only what changed, out of band: the day's cell and the basket bar, not the board.
    assert 'id="booking"' not in body and "<html" not in body
    assert response.headers["hx-reswap"] == "none"
    assert f'id="jour-{day.isoformat()}" hx-swap-oob="true"' in body
    assert body.count('role="cell"') == 1
    assert 'id="basket-bar" hx-swap-oob="true"' in body
    assert "<strong>1</strong> demande non validée" in body
    assert "à réserver" in body


async def test_time_entry_asks_for_hours(db: Database, browser: Browser) -> None:
    setup = await make_family(login="dupont", children=("Paolo",))
    day = next_weekday(1, 3)
    morning = await make_activity(
        setup.structure,
        "Accueil Matin 1/2 heure",
        capacity=None,
        waitlist=0,
        start=time(7),
        end=time(8, 30),
        time_entry=True,
        arrivals="07:00,07:30,08:00",
        departures="08:30",
        price_cents=32,
    )
    await make_days(morning, day)
    await enroll(setup.people, morning)
    await browser.login("dupont", PASSWORD)
    response = await tap(browser, setup, 0, morning.id, f"jour:{day.isoformat()}", day)
    assert response.headers["location"].startswith("/reservations/horaires?")
    form_url = response.headers["location"]
    bad = await browser.submit(
        "/reservations/horaires",
        dict(_form_fields(text(await browser.get(form_url))), arrivee="09:00", depart="08:30"),
        page=form_url,
    )
    assert bad.status_code == 400
    ok = await browser.submit(
        "/reservations/horaires",
        dict(_form_fields(text(await browser.get(form_url))), arrivee="07:30", depart="08:30"),
        page=form_url,
    )
    assert ok.status_code == 303
    recap = text(await browser.get("/reservations/recapitulatif"))
    assert "07:30" in recap and "0,64" in recap  # two half hours at 0,32 €
    await browser.submit("/reservations/valider", {}, page="/reservations/recapitulatif")
    row = await Reservation.objects().first()
    assert row is not None and row.arrival == time(7, 30) and row.quantity == 2


def _form_fields(html: str) -> dict[str, str]:
    return {
        name: value
        for name, value in re.findall(
            r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html
        )
        if name != "_csrf_token"
    }


async def test_another_familys_child_is_a_404(db: Database, browser: Browser) -> None:
    setup = await make_family(login="dupont", children=("Paolo",))
    other = await make_family(
        login="autre", structure=setup.structure, children=("Léa",), name="MARTIN S"
    )
    await browser.login("dupont", PASSWORD)
    response = await browser.get(
        f"/reservations?personne={other.people[0].id}", headers={"accept": "text/html"}
    )
    assert response.status_code == 404
    forged = await browser.submit(
        "/reservations/basculer",
        {"personne": str(other.people[0].id), "activite": "1", "mois": "2026-12", "cible": "mois"},
        page="/reservations",
    )
    assert forged.status_code == 404


async def test_debt_blocks_booking_with_reason_and_pay_link(db: Database, browser: Browser) -> None:
    setup = await make_family(login="martin", children=("Léa",), name="MARTIN Sophie")
    wallet_type = await WalletType.objects().get(WalletType.structure == setup.structure.id)
    assert wallet_type is not None
    await WalletType.update({WalletType.debt_block_cents: 5000}).where(
        WalletType.id == wallet_type.id
    )
    wallet = Wallet(family=setup.family.id, wallet_type=wallet_type.id)
    await wallet.save()
    await LedgerEntry(
        wallet=wallet.id,
        family=setup.family.id,
        kind="debit",
        amount_cents=-8240,
        entry_date=date(2026, 10, 1),
    ).save()
    day = next_weekday(2, 3)
    activity = await make_activity(setup.structure)
    await make_days(activity, day)
    await enroll(setup.people, activity)
    await browser.login("martin", PASSWORD)
    page = text(await browser.get(f"/reservations?activite={activity.id}&mois={month_of(day)}"))
    assert "Réservations impossibles pour Léa" in page
    assert "82,40" in page and 'href="/paiement"' in page
    response = await tap(browser, setup, 0, activity.id, f"jour:{day.isoformat()}", day)
    assert response.status_code == 303
    assert "débiteur" in text(await browser.get(response.headers["location"]))
    assert "Aucune demande en cours." in text(await browser.get("/reservations"))


async def test_day_list_copy_report_and_abandon(db: Database, browser: Browser) -> None:
    setup = await make_family(login="dupont", children=("Paolo", "Amalia"))
    monday = next_weekday(0, 3)
    days = [monday + timedelta(days=d) for d in (0, 1)]
    canteen = await make_activity(
        setup.structure,
        "Restauration Scolaire",
        capacity=None,
        waitlist=0,
        start=time(11, 30),
        end=time(13, 30),
    )
    alsh = await make_activity(
        setup.structure,
        "Accueil Soir",
        capacity=1,
        waitlist=0,
        start=time(16, 30),
        end=time(18, 30),
    )
    await make_days(canteen, *days)
    alsh_days = await make_days(alsh, *days)
    await enroll(setup.people, canteen, alsh)
    # Amalia cannot get the evening care of the second day: it is full.
    await ActivityDay.update({ActivityDay.accepted_count: 1}).where(
        ActivityDay.id == alsh_days[1].id
    )
    await browser.login("dupont", PASSWORD)
    day_page = text(
        await browser.get(f"/reservations/jour/{days[0].isoformat()}?personne={setup.people[0].id}")
    )
    assert "Restauration Scolaire" in day_page and "Accueil Soir" in day_page
    await browser.submit(
        "/reservations/basculer",
        {
            "personne": str(setup.people[0].id),
            "activite": "tous",
            "mois": month_of(days[0]),
            "cible": f"jour:{days[0].isoformat()}",
            "activite_cible": str(alsh.id),
            "retour": f"/reservations/jour/{days[0].isoformat()}?personne={setup.people[0].id}",
        },
        page=f"/reservations/jour/{days[0].isoformat()}?personne={setup.people[0].id}",
    )
    await tap(browser, setup, 0, alsh.id, f"jour:{days[0].isoformat()}", days[0])  # undo
    await tap(browser, setup, 0, canteen.id, f"semaine:{monday.isoformat()}", monday)
    copy = await browser.submit(
        "/reservations/importer",
        {
            "source": f"{setup.people[0].id}:{canteen.id}",
            "destination": f"{setup.people[1].id}:{alsh.id}",
            "debut": days[0].isoformat(),
            "fin": days[1].isoformat(),
        },
        page="/reservations/importer",
    )
    report = text(copy)
    assert copy.status_code == 200
    assert "1 jour ajouté à vos demandes" in report
    assert "Plus de place" in report
    recap = text(await browser.get("/reservations/recapitulatif"))
    assert recap.count("Restauration Scolaire") == 2  # Paolo's Monday and Tuesday
    assert recap.count("Accueil Soir") == 1  # Amalia's Monday; her Tuesday is full
    await browser.submit("/reservations/abandonner", {}, page="/reservations/recapitulatif")
    assert "Votre panier est vide." in text(await browser.get("/reservations/recapitulatif"))


async def test_time_entry_dialog_offers_to_cancel_a_booked_day(
    db: Database, browser: Browser
) -> None:
    setup = await make_family(login="dupont", children=("Paolo",))
    tuesday = next_weekday(1, 3)
    thursday = tuesday + timedelta(days=2)
    morning = await make_activity(
        setup.structure, "Accueil Matin 1/2 heure", capacity=None, waitlist=0,
        start=time(7), end=time(8, 30), time_entry=True,
        arrivals="07:00,07:30", departures="08:30", price_cents=32,
    )  # fmt: skip
    await make_days(morning, tuesday, thursday)
    await enroll(setup.people, morning)
    await browser.login("dupont", PASSWORD)
    first = await tap(browser, setup, 0, morning.id, f"jour:{tuesday.isoformat()}", tuesday)
    await browser.submit(
        "/reservations/horaires",
        {
            **_form_fields(text(await browser.get(first.headers["location"]))),
            "arrivee": "07:00",
            "depart": "08:30",
        },
        page=first.headers["location"],
    )
    await browser.submit("/reservations/valider", {}, page="/reservations/recapitulatif")
    second = await tap(browser, setup, 0, morning.id, f"jour:{thursday.isoformat()}", thursday)
    dialog = text(await browser.get(second.headers["location"]))
    assert "Annuler une réservation de ce mois" in dialog
    assert f'value="jour:{tuesday.isoformat()}"' in dialog and "07:00 – 08:30" in dialog
    if tuesday.month == thursday.month:
        await tap(browser, setup, 0, morning.id, f"jour:{tuesday.isoformat()}", tuesday)
        recap = text(await browser.get("/reservations/recapitulatif"))
        assert "Annulations demandées" in recap
