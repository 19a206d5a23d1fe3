"""Parents' tools through real HTTP: a semaine type applied into the basket and confirmed,
a sick day declared with a photo and decided by staff, the calendar feed and its
revocation."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import httpx

from portal import clock
from portal.tables import AbsenceDeclaration, OutboxEmail, Reservation
from tests.conftest import Database
from tests.factories import PASSWORD, enroll, make_activity, make_days, make_family, make_staff
from tests.web.conftest import Browser, LiveServer, text
from tests.web.staff.conftest import staff_login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def monday_in(weeks: int) -> date:
    today = clock.local_today("Europe/Paris")
    return today + timedelta(days=7 * weeks - today.weekday())


async def test_pattern_absence_and_feed(db: Database, live: LiveServer, browser: Browser) -> None:
    setup = await make_family(login="dupont", children=("Paolo",))
    canteen = await make_activity(
        setup.structure, "Restauration Scolaire", capacity=None, start=time(11, 45),
        end=time(13, 30), price_cents=380,
    )  # fmt: skip
    alsh = await make_activity(setup.structure, "ALSH Mercredi", capacity=10)
    monday = monday_in(3)
    week = [monday + timedelta(days=i) for i in range(5)]
    await make_days(canteen, *[d for d in week if d.weekday() != 2])
    await make_days(alsh, week[2])
    await enroll(setup.people, canteen, alsh)
    await browser.login("dupont", PASSWORD)

    # Semaine type: save, apply over the week, then the usual recap and confirmation.
    page = await browser.get("/reservations")
    assert 'href="/reservations/semaine-type"' in page.text
    response = await browser.submit(
        "/reservations/semaine-type",
        {"personne": str(setup.people[0].id), "nom": "Année scolaire",
         **{f"j-{canteen.id}-{d}": "1" for d in (0, 1, 3, 4)}, f"j-{alsh.id}-2": "1"},
    )  # fmt: skip
    assert response.status_code == 303, text(response)
    page = await browser.get("/reservations/semaine-type")
    assert "Restauration Scolaire</strong> : lundi, mardi, jeudi, vendredi" in text(page)
    pattern_id = re.search(r"/reservations/semaine-type/(\d+)/appliquer", page.text)
    assert pattern_id
    url = f"/reservations/semaine-type/{pattern_id.group(1)}/appliquer"
    response = await browser.submit(
        url,
        {"debut": monday.isoformat(), "fin": (monday + timedelta(days=6)).isoformat()},
        page="/reservations/semaine-type",
    )
    assert response.status_code == 200, text(response)
    assert "5 jours ajoutés à vos demandes non validées" in text(response)
    assert await Reservation.count() == 0  # only the basket so far
    recap = await browser.get("/reservations/recapitulatif")
    assert text(recap).count("Restauration Scolaire") >= 4 and "ALSH Mercredi" in text(recap)
    response = await browser.submit("/reservations/valider", {}, page="/reservations/recapitulatif")
    assert response.status_code == 303
    assert await Reservation.count().where(Reservation.status == "accepted") == 5

    # Enfant malade: from the day list, with a photo of the certificate.
    day = week[3]
    page = await browser.get(f"/reservations/jour/{day.isoformat()}?personne={setup.people[0].id}")
    assert f"/absences?jour={day.isoformat()}" in page.text
    page = await browser.get(f"/absences?jour={day.isoformat()}&personne={setup.people[0].id}")
    reservation = re.search(r'name="reservation" value="(\d+)" required checked', page.text)
    assert reservation, text(page)
    response = await browser.post(
        "/absences",
        data={"_csrf_token": browser.last_csrf or "", "reservation": reservation.group(1),
              "message": "Fièvre"},
        files={"photo": ("IMG_0001.png", PNG, "image/png")},
    )  # fmt: skip
    assert response.status_code == 303, text(response)
    page = await browser.get(f"/reservations/jour/{day.isoformat()}?personne={setup.people[0].id}")
    assert "Activité réservée, absence signalée" in text(page)
    page = await browser.get("/absences")
    assert "Absence signalée, en attente" in text(page)

    # Staff decide it on their Décisions page; the family is e-mailed.
    await make_staff("agent", setup.structure)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as agent:
        await staff_login(agent, "agent")
        decisions = f"/gestion/s/{setup.structure.id}/decisions"
        page = await agent.get(decisions)
        assert "Absences signalées par les familles" in text(page)
        [declaration] = await AbsenceDeclaration.objects()
        certificate = await agent.get(
            f"/gestion/s/{setup.structure.id}/absences/{declaration.id}/justificatif"
        )
        assert certificate.content == PNG
        assert certificate.headers["content-type"] == "image/png"
        response = await agent.submit(
            f"/gestion/s/{setup.structure.id}/absences/{declaration.id}",
            {"decision": "justifiee"},
            page=decisions,
        )
        assert response.status_code == 303
    assert (await AbsenceDeclaration.objects().first()).status == "justified"  # type: ignore[union-attr]
    assert await OutboxEmail.count().where(OutboxEmail.subject.like("Absence justifiée%")) == 1
    # Another family's parent cannot reach the certificate route of staff.
    response = await browser.get(
        f"/gestion/s/{setup.structure.id}/absences/{declaration.id}/justificatif"
    )
    assert response.status_code in (303, 401, 403, 404)

    # Calendar feed: made from Suivi, read without a session, revoked -> 404.
    page = await browser.get("/suivi")
    assert 'href="/agenda"' in page.text
    response = await browser.submit("/agenda/generer", {}, page="/agenda")
    assert response.status_code == 303
    page = await browser.get("/agenda")
    feed_url = re.search(r'value="http[^"]+(/agenda/[^"]+\.ics)"', page.text)
    assert feed_url, text(page)
    assert f'value="{live.settings.base_url.rstrip("/")}/agenda/' in page.text
    assert "Google Agenda" in text(page) and "Outlook" in text(page)
    async with httpx.AsyncClient(timeout=30) as calendar_app:  # no cookie, like a calendar
        feed = await calendar_app.get(live.url + feed_url.group(1))
        assert feed.status_code == 200
        assert feed.headers["content-type"].startswith("text/calendar")
        body = feed.text.replace("\r\n ", "")
        assert body.count("BEGIN:VEVENT") == 5
        assert "SUMMARY:Restauration Scolaire : Paolo (absence signalée)" in body
        assert f"DTSTART;TZID=Europe/Paris:{week[2]:%Y%m%d}T083000" in body
        # A second address voids the first; revoking voids everything.
        await browser.submit("/agenda/generer", {}, page="/agenda")
        assert (await calendar_app.get(live.url + feed_url.group(1))).status_code == 404
        page = await browser.get("/agenda")
        second = re.search(r'value="http[^"]+(/agenda/[^"]+\.ics)"', page.text)
        assert second and (await calendar_app.get(live.url + second.group(1))).status_code == 200
        await browser.submit("/agenda/revoquer", {"retour": "profil"}, page="/profil")
        assert (await calendar_app.get(live.url + second.group(1))).status_code == 404
        assert (
            await calendar_app.get(live.url + "/agenda/" + "x" * 43 + ".ics")
        ).status_code == 404
