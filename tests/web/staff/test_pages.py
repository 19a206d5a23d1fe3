"""The back office through HTTP: forms, French errors with 4xx, htmx fragments, the admin."""

from __future__ import annotations

import re

from httpx import Response

from portal.tables import (
    Activity,
    ActivityDay,
    AuditLog,
    LedgerEntry,
    Movement,
    NewsItem,
    Reservation,
    Structure,
)
from tests.factories import PASSWORD, STAFF_PASSWORD
from tests.web.conftest import Browser, LiveServer, text
from tests.web.staff.conftest import Office, pass_second_factor, staff_login

HTMX = {"hx-request": "true", "accept": "text/html"}


def plain(response: Response) -> str:
    """The page's words, without tags and with single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text(response)))


async def test_login_and_dashboard(live: LiveServer, office: Office) -> None:
    async with Browser(base_url=live.url, follow_redirects=False) as browser:
        wrong = await browser.submit(
            "/gestion/connexion", {"identifier": "agent-a", "password": "non"}
        )
        assert wrong.status_code == 401
        assert "Identifiant ou mot de passe incorrect" in plain(wrong)
        assert (await browser.get("/gestion")).headers["location"] == "/gestion/connexion"
        await staff_login(browser, "agent-a")
        home = await browser.get("/gestion")
        assert home.headers["location"] == f"/gestion/s/{office.mine.sid}"
        page = plain(await browser.get(home.headers["location"]))
        out = await browser.submit("/gestion/deconnexion", {}, page=home.headers["location"])
        assert out.headers["location"] == "/gestion/connexion"
        assert out.headers["clear-site-data"] == '"cache", "storage"'
        assert (await browser.get("/gestion")).headers["location"] == "/gestion/connexion"
    assert "Tableau de bord · Mairie de Testville" in page
    assert "2 demandes en attente de décision, 2 en liste d'attente" in page
    assert "Mairie de Loinville" not in page  # no switcher: one structure only


async def test_a_decision_by_page_then_no_place_left(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    first, second = office.mine.pending
    accepted = await agent.submit(
        f"{base}/decisions/{first.id}", {"decision": "accepter"}, page=f"{base}/decisions"
    )
    assert accepted.status_code == 303
    assert "Demande de Léa acceptée." in plain(await agent.get(accepted.headers["location"]))

    full = await agent.submit(
        f"{base}/decisions/{second.id}", {"decision": "accepter"}, page=f"{base}/decisions"
    )
    assert full.status_code == 409
    assert "Plus de place ce jour-là (1 acceptée(s) pour 1 place(s))" in plain(full)
    bad = await agent.submit(
        f"{base}/decisions/{second.id}", {"decision": "peut-être"}, page=f"{base}/decisions"
    )
    assert bad.status_code == 409
    assert "Choisissez d'accepter ou de refuser" in plain(bad)
    assert await Movement.count().where(Movement.kind == "decision") == 1


async def test_a_decision_through_htmx_returns_the_day(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    first = office.mine.waitlisted[0]
    await agent.get(f"{base}/decisions")
    response = await agent.post(
        f"/partials{base}/decisions/{first.id}",
        data={"decision": "refuser", "journee": str(office.mine.full_day.id)},
        headers={**HTMX, "x-csrftoken": agent.last_csrf or ""},
    )
    assert response.status_code == 200
    body = plain(response)
    assert response.text.lstrip().startswith(
        f'<section class="card stack decision-day" id="jour-{office.mine.full_day.id}"'
    )
    assert "Demande de Lina refusée." in body
    assert "Liste d'attente (rang 1)" in body  # the other request moved up
    row = await Reservation.objects().get(Reservation.id == first.id)
    assert row is not None and row.status == "refused"


async def test_capacity_errors_in_french_and_raise_promotes(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    day = office.mine.full_day
    days_page = f"{base}/activites/{office.mine.activity.id}/journees?mois={day.day:%Y-%m}"
    low = await agent.submit(
        f"{base}/journees/{day.id}/capacite", {"capacite": "1", "liste_attente": "2"},
        page=days_page,
    )  # fmt: skip
    assert low.status_code == 409
    assert "La capacité ne peut pas descendre en dessous de 2" in plain(low)
    typo = await agent.submit(
        f"{base}/journees/{day.id}/capacite", {"capacite": "trois"}, page=days_page
    )
    assert typo.status_code == 400
    assert "nombre entier positif" in plain(typo)
    raised = await agent.submit(
        f"{base}/journees/{day.id}/capacite", {"capacite": "4", "liste_attente": "2"},
        page=days_page,
    )  # fmt: skip
    assert raised.status_code == 303
    assert "2 demande(s) de la liste d'attente acceptée(s)" in plain(
        await agent.get(raised.headers["location"])
    )
    assert await Movement.count().where(Movement.kind == "promotion") == 2


async def test_activity_form_validation_and_creation(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    form = await agent.get(f"{base}/activites/nouvelle")
    wallet = re.search(r'<option value="(\d+)"', form.text)
    assert wallet is not None
    fields = {
        "nom": "Accueil du soir", "porte_monnaie": wallet.group(1), "debut": "16:30",
        "fin": "18:30", "capacite": "20", "liste_attente": "0",
        "delai_reservation": "la veille", "delai_annulation": "days:1@18:00", "active": "1",
    }  # fmt: skip
    bad = await agent.submit(f"{base}/activites/nouvelle", fields)
    assert bad.status_code == 400
    assert "Délai de réservation : Délai invalide « la veille »" in plain(bad)
    assert 'value="Accueil du soir"' in bad.text  # what was typed is kept
    good = await agent.submit(
        f"{base}/activites/nouvelle", {**fields, "delai_reservation": "workdays:1@18:00"}
    )
    assert good.status_code == 303
    created = await Activity.objects().get(Activity.name == "Accueil du soir")
    assert created is not None and created.structure == office.mine.sid
    page = plain(await agent.get(good.headers["location"]))
    assert "1 jour ouvré avant à 18h00" in page
    # The deadlines' French fields compose the stored code (issue 17).
    thursday = {
        "delai_reservation_type": "semaine_precedente", "delai_reservation_jour": "3",
        "delai_reservation_jours": "", "delai_reservation_heure": "10:00",
    }  # fmt: skip
    wrong = await agent.submit(
        good.headers["location"], {**fields, **thursday, "delai_reservation_heure": "midi"}
    )
    assert wrong.status_code == 400
    assert "Délai de réservation : indiquez l'heure limite" in plain(wrong)
    saved = await agent.submit(good.headers["location"], {**fields, **thursday})
    assert saved.status_code == 303
    again = await Activity.objects().get(Activity.id == created.id)
    assert again is not None and again.booking_deadline == "prevweek:thu@10:00"
    shown = await agent.get(good.headers["location"])
    assert '<option value="semaine_precedente" selected>' in shown.text


async def test_generate_days_by_form(live: LiveServer, agent: Browser, office: Office) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    activity = office.mine.activity.id
    page = f"{base}/activites/{activity}/journees"
    response = await agent.submit(
        f"{base}/activites/{activity}/generer",
        {"du": "2027-05-01", "au": "2027-05-31", "jours": "3", "fermetures": "27/05/2027"},
        page=page,
    )
    assert response.status_code == 200
    body = plain(response)
    assert "2 journées créées." in body
    assert "Jours fériés écartés : jeu. 06/05/2027." in body
    assert "Fermetures écartées : jeu. 27/05/2027." in body
    wrong = await agent.submit(
        f"{base}/activites/{activity}/generer", {"du": "31/05/2027", "au": "2027-05-01"}, page=page
    )
    assert wrong.status_code == 400
    assert "La date de fin est avant la date de début." in plain(wrong)


async def test_payment_by_form_is_recorded_once(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    family = int(office.mine.family.family.id)
    page = f"{base}/reglements?famille={family}"
    form = await agent.get(page)
    key = re.search(r'name="cle" value="([^"]+)"', form.text)
    wallet = re.search(r'name="porte_monnaie">\s*<option value="(\d+)"', form.text)
    assert key and wallet
    fields = {
        "cle": key.group(1), "porte_monnaie": wallet.group(1), "mode": "CHEQUE",
        "montant": "abc", "piece": "0042", "payeur": "DUPONT", "banque": "CIC",
    }  # fmt: skip
    bad = await agent.submit(f"{base}/reglements/{family}", fields, page=page)
    assert bad.status_code == 400
    assert "« abc » n'est pas un montant valide" in plain(bad)
    ok = await agent.submit(
        f"{base}/reglements/{family}", {**fields, "montant": "45,50"}, page=page
    )
    assert ok.status_code == 303
    assert "Chèque de 45,50 € enregistré" in plain(await agent.get(ok.headers["location"]))
    again = await agent.submit(
        f"{base}/reglements/{family}", {**fields, "montant": "45,50"}, page=page
    )
    assert "déjà enregistré" in plain(await agent.get(again.headers["location"]))
    assert await LedgerEntry.count().where(LedgerEntry.payment_mode == "CHEQUE") == 1


async def test_import_reports_lines_then_shows_letters_once(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    good = "famille;prenom;nom;naissance\nBLANC Eva;Nina;BLANC;01/02/2019\n"
    bad = good + "BLANC Eva;Noé;;01/02/2019\n"

    async def upload(content: str) -> str:
        await agent.get(f"{base}/familles")
        response = await agent.post(
            f"{base}/familles/import",
            files={"fichier": ("familles.csv", content.encode("cp1252"), "text/csv")},
            data={"_csrf_token": agent.last_csrf or ""},
        )
        assert response.status_code == (200 if content == good else 400)
        return text(response)

    refused = await upload(bad)
    assert "Rien n'a été importé" in refused and "Ligne 3 : le nom est vide." in refused
    letters = await upload(good)
    password = re.search(r"data-password>([^<]+)<", letters)
    assert password is not None and "blanc.e" in letters
    # Shown once: the family page never shows it again.
    family_page = plain(await agent.get(f"{base}/familles?q=BLANC"))
    assert "BLANC Eva" in family_page and password.group(1) not in family_page


async def test_attendance_mark_through_htmx(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    past = office.mine.past
    listing = await agent.get(
        f"{base}/presences?activite={office.mine.activity.id}&jour={office.mine.past_day.day}"
    )
    assert "Paolo" in plain(listing)
    response = await agent.post(
        f"/partials{base}/presences/{past.id}",
        data={"etat": "justifie"},
        headers={**HTMX, "x-csrftoken": agent.last_csrf or ""},
    )
    assert response.status_code == 200
    assert f'<tr id="presence-{past.id}">' in response.text
    assert "Absence justifiée (non facturée)" in plain(response)
    wrong = await agent.post(
        f"/partials{base}/presences/{past.id}",
        data={"etat": "en vacances"},
        headers={**HTMX, "x-csrftoken": agent.last_csrf or ""},
    )
    assert wrong.status_code == 400
    row = await Reservation.objects().get(Reservation.id == past.id)
    assert row is not None and row.absence_justified


async def test_news_published_by_staff_reaches_the_parent_home(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    empty = await agent.submit(f"{base}/actualites", {"titre": "", "texte": ""})
    assert empty.status_code == 400 and "Le titre est obligatoire." in plain(empty)
    published = await agent.submit(
        f"{base}/actualites", {"titre": "Piscine fermée", "texte": "Jusqu'à lundi."}
    )
    assert published.status_code == 303
    async with Browser(base_url=live.url, follow_redirects=False) as parent:
        await parent.login("a-dupont", PASSWORD)
        assert "Piscine fermée" in plain(await parent.get("/"))
        item = await NewsItem.objects().get(NewsItem.title == "Piscine fermée")
        assert item is not None
        await agent.submit(f"{base}/actualites/{item.id}/retirer", {}, page=f"{base}/actualites")
        assert "Piscine fermée" not in plain(await parent.get("/"))


async def test_transmission_runs_on_demand(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    await agent.submit(
        f"{base}/decisions/{office.mine.pending[0].id}", {"decision": "refuser"},
        page=f"{base}/decisions",
    )  # fmt: skip
    response = await agent.submit(f"{base}/transmission", {})
    assert response.status_code == 303
    page = plain(await agent.get(response.headers["location"]))
    assert "Mairie de Testville : 1 mouvement transmis" in page
    structure = await Structure.objects().get(Structure.id == office.mine.sid)
    assert structure is not None and structure.last_transmission_at is not None
    decision = await Movement.objects().get(Movement.kind == "decision")
    assert decision is not None and decision.transmitted_at is not None
    assert await AuditLog.count().where(AuditLog.action == "transmission.run") == 1


async def test_admin_is_for_administrators_only(live: LiveServer, office: Office) -> None:
    async with Browser(base_url=live.url, follow_redirects=False) as anonymous:
        response = await anonymous.get("/admin/")
        assert response.status_code == 303
        assert response.headers["location"] == "/gestion/connexion?suite=/admin/"
        assert (await anonymous.get("/admin/api/tables/")).status_code == 303
        login = await anonymous.submit(
            "/gestion/connexion",
            {"identifier": "admin", "password": STAFF_PASSWORD, "suite": "/admin/"},
            page=response.headers["location"],
        )
        # Issue 11: administrators pass a second factor, then land where they were going.
        assert login.headers["location"] == "/gestion/connexion/code"
        assert await pass_second_factor(anonymous, "admin") == "/admin/"
        assert (await anonymous.get("/admin/")).status_code == 200
    async with Browser(base_url=live.url, follow_redirects=False) as agent:
        await staff_login(agent, "agent-a")
        forbidden = await agent.get("/admin/")
        assert forbidden.status_code == 403 and "réservées aux administrateurs" in forbidden.text
        assert (await agent.get("/admin/api/tables/")).status_code == 403


async def test_admin_edits_are_audited_in_the_same_transaction(
    live: LiveServer, office: Office
) -> None:
    async with Browser(base_url=live.url, follow_redirects=False) as admin:
        await staff_login(admin, "admin")
        assert (await admin.get("/admin")).headers["location"] == "/admin/"
        spa = await admin.get("/admin/")
        assert spa.status_code == 200 and "<html" in spa.text.lower()
        tables = await admin.get("/admin/api/tables/")
        assert tables.status_code == 200 and "news_item" in tables.json()
        accounts = await admin.get("/admin/api/tables/account/?__page=1")
        assert accounts.status_code == 200 and "a-dupont" in accounts.text
        assert "$argon2" not in accounts.text  # hashes stay out of the admin
        token = admin.cookies.get("csrftoken")
        assert token
        headers = {"x-csrftoken": token, "referer": f"{live.url}/admin/"}
        created = await admin.post(
            "/admin/api/tables/news_item/",
            json={
                "structure": office.mine.sid,
                "title": "Par l'admin",
                "body": "Texte",
                "created_at": "2026-11-20T10:00:00+00:00",
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        incomplete = await admin.post(  # refused by the database: its audit entry goes too
            "/admin/api/tables/news_item/",
            json={"structure": office.mine.sid, "title": "X", "body": "Y"},
            headers=headers,
        )
        assert incomplete.status_code == 422
        day = office.mine.full_day.id
        refused = await admin.patch(
            f"/admin/api/tables/activity_day/{day}/", json={"capacity": 1}, headers=headers
        )
        assert refused.status_code >= 400  # below the accepted places: the CHECK refuses
        audit_delete = await admin.delete("/admin/api/tables/audit_log/1/", headers=headers)
        assert audit_delete.status_code == 405
    entries = await AuditLog.objects().order_by(AuditLog.id).output(load_json=True)
    assert [(e.action, e.target_table, e.staff_login) for e in entries] == [
        ("admin.create", "news_item", "admin")
    ]
    assert entries[0].after["title"] == "Par l'admin"
    unchanged = await ActivityDay.objects().get(ActivityDay.id == day)
    assert unchanged is not None and unchanged.capacity == 2
