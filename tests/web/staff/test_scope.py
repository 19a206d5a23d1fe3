"""An agent of one structure gets 404 on every page and action of another structure."""

from __future__ import annotations

from datetime import date, timedelta

from portal import clock
from portal.domain.exports.tabular import Table, write_csv_file
from portal.tables import AuditLog, StaffMember, Structure
from tests.factories import World
from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import Office

PERIOD_FORM = {
    "nom": "Hiver", "activites": "{aid}", "premier_jour": "{day}", "dernier_jour": "{day}",
    "ouverture": "2026-01-01T08:00", "mode": "first_come",
}  # fmt: skip
TAP_FORM = {"personne": "{pid}", "activite": "{aid}", "mois": "{month}", "cible": "{day}"}
SHEET = {"activite": "{aid}", "jour": "{past_day}"}
TIMES_QUERY = "personne={pid}&activite={aid}&mois={month}&jours={day}"
# Pages that show the outcome of a step taken before: without one, they send back.
SENDS_BACK = {"/gestion/s/{sid}/familles/{fid}/reservations/resultat"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# Every back-office URL with an id in it, and the fields a valid form would send.
ROUTES: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/gestion/s/{sid}", {}),
    ("GET", "/gestion/s/{sid}/activites", {}),
    ("GET", "/gestion/s/{sid}/activites/nouvelle", {}),
    ("POST", "/gestion/s/{sid}/activites/nouvelle", {"nom": "X"}),
    ("GET", "/gestion/s/{sid}/activites/{aid}", {}),
    ("POST", "/gestion/s/{sid}/activites/{aid}", {"nom": "X"}),
    ("POST", "/gestion/s/{sid}/activites/{aid}/tarifs", {"tranche": "A", "prix": "1"}),
    ("POST", "/gestion/s/{sid}/activites/{aid}/inscriptions", {"personne": "{pid}"}),
    ("GET", "/gestion/s/{sid}/activites/{aid}/journees", {}),
    ("POST", "/gestion/s/{sid}/activites/{aid}/generer", {"du": "2030-01-01", "jours": "2"}),
    ("POST", "/gestion/s/{sid}/journees/{did}/ouverture", {"ouvert": "0"}),
    ("POST", "/gestion/s/{sid}/journees/{did}/capacite", {"capacite": "9", "liste_attente": "9"}),
    ("GET", "/gestion/s/{sid}/decisions", {}),
    ("GET", "/gestion/s/{sid}/decisions?activite={aid}", {}),
    ("POST", "/gestion/s/{sid}/decisions/{rid}", {"decision": "accepter"}),
    ("POST", "/partials/gestion/s/{sid}/decisions/{rid}", {"decision": "accepter"}),
    ("GET", "/gestion/s/{sid}/presences", {}),
    ("GET", "/gestion/s/{sid}/presences?activite={aid}", {}),
    ("POST", "/gestion/s/{sid}/presences/{past}", {"etat": "absent"}),
    ("POST", "/partials/gestion/s/{sid}/presences/{past}", {"etat": "absent"}),
    ("GET", "/gestion/s/{sid}/reglements", {}),
    ("GET", "/gestion/s/{sid}/reglements?famille={fid}", {}),
    ("POST", "/gestion/s/{sid}/reglements/{fid}", {"mode": "ESPECES", "montant": "10"}),
    ("GET", "/gestion/s/{sid}/actualites", {}),
    ("POST", "/gestion/s/{sid}/actualites", {"titre": "X", "texte": "Y"}),
    ("GET", "/gestion/s/{sid}/actualites/{nid}", {}),
    ("POST", "/gestion/s/{sid}/actualites/{nid}", {"titre": "X", "texte": "Y"}),
    ("POST", "/gestion/s/{sid}/actualites/{nid}/retirer", {}),
    ("GET", "/gestion/s/{sid}/familles", {}),
    ("POST", "/gestion/s/{sid}/familles/import", {"contenu": "famille;prenom;nom\nA;B;C\n"}),
    ("GET", "/gestion/s/{sid}/familles/{fid}", {}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/dossier", {"complet": "0"}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/comptes/{acc}/reinitialiser", {}),
    ("GET", "/gestion/s/{sid}/transmission", {}),
    ("POST", "/gestion/s/{sid}/transmission", {}),
    # family file
    ("GET", "/gestion/s/{sid}/dossiers", {}),
    ("GET", "/gestion/s/{sid}/dossiers?liste=documents&format=csv", {}),
    ("GET", "/gestion/s/{sid}/dossiers?liste=documents&format=xlsx", {}),
    ("GET", "/gestion/s/{sid}/familles/{fid}/dossier", {}),
    ("GET", "/gestion/s/{sid}/familles/{fid}/enfants/{pid}/fiche", {}),
    ("GET", "/gestion/s/{sid}/documents/{doc}", {}),
    ("POST", "/gestion/s/{sid}/documents/{doc}/decision", {"decision": "refuser", "motif": "x"}),
    ("POST", "/gestion/s/{sid}/modifications/{cid}/decision", {"decision": "refuser"}),
    ("GET", "/gestion/s/{sid}/recherche?q=dupont", {}),
    ("GET", "/gestion/s/{sid}/sante", {}),
    ("GET", "/gestion/s/{sid}/sante?activite={aid}", {}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/adultes/{adult}/identifiant", {}),
    ("GET", "/gestion/s/{sid}/familles/{fid}/enfants/{pid}/modifier", {}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/enfants/{pid}/modifier", {"ecole": "X"}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/coordonnees", {"adresse": "X"}),
    ("GET", "/gestion/s/{sid}/inscriptions", {}),
    ("GET", "/gestion/s/{sid}/inscriptions?etat=&format=csv", {}),
    ("GET", "/gestion/s/{sid}/inscriptions?etat=&format=xlsx", {}),
    ("POST", "/gestion/s/{sid}/inscriptions/{erid}/decision", {"decision": "accepter"}),
    ("GET", "/gestion/s/{sid}/activites/{aid}/inscriptions-portail", {}),
    ("POST", "/gestion/s/{sid}/activites/{aid}/inscriptions-portail", {"ouvert": "1"}),
    # régie (money papers, direct debit, reminders)
    ("GET", "/gestion/s/{sid}/regie", {}),
    ("POST", "/gestion/s/{sid}/regie/en-tete", {"adresse": "x", "signataire": "x"}),
    ("POST", "/gestion/s/{sid}/regie/categories", {}),
    ("GET", "/gestion/s/{sid}/regie/attestations-fiscales", {}),
    ("GET", "/gestion/s/{sid}/regie/prelevement", {}),
    ("POST", "/gestion/s/{sid}/regie/prelevement/parametres", {}),
    ("POST", "/gestion/s/{sid}/regie/prelevement/mandats", {"famille": "{fid}"}),
    ("GET", "/gestion/s/{sid}/regie/prelevement/mandats/{mandate}", {}),
    ("POST", "/gestion/s/{sid}/regie/prelevement/mandats/{mandate}/revoquer", {}),
    ("POST", "/gestion/s/{sid}/regie/prelevement/lancer", {}),
    ("GET", "/gestion/s/{sid}/regie/prelevement/{run}", {}),
    ("GET", "/gestion/s/{sid}/regie/prelevement/{run}/pain008.xml", {}),
    ("POST", "/gestion/s/{sid}/regie/prelevement/{run}/comptabiliser", {}),
    ("POST", "/gestion/s/{sid}/regie/prelevement/rejets/{debit}", {"motif": "AM04"}),
    ("GET", "/gestion/s/{sid}/regie/relances", {}),
    ("POST", "/gestion/s/{sid}/regie/relances/parametres", {"jours": "10"}),
    ("POST", "/gestion/s/{sid}/regie/relances/soldes-bas", {}),
    ("POST", "/gestion/s/{sid}/regie/relances/modeles/{level}", {}),
    ("POST", "/gestion/s/{sid}/regie/relances/envoyer", {"famille": "{fid}", "niveau": "1"}),
    ("POST", "/gestion/s/{sid}/regie/relances/lettre", {"famille": "{fid}", "niveau": "1"}),
    # journal and exports (issue 17)
    ("GET", "/gestion/s/{sid}/journal", {}),
    ("GET", "/gestion/s/{sid}/transmission/exports", {}),
    ("GET", "/gestion/s/{sid}/transmission/exports/2026-12-01.csv", {}),
    ("GET", "/gestion/s/{sid}/familles/export?format=csv", {}),
    ("GET", "/gestion/s/{sid}/presences/export?activite={aid}&format=csv", {}),
    ("GET", "/gestion/s/{sid}/decisions/export?activite={aid}&format=xlsx", {}),
    ("GET", "/gestion/s/{sid}/reglements/export?format=csv", {}),
    ("GET", "/gestion/s/{sid}/reservations/export?activite={aid}&format=csv", {}),
    # booking periods
    ("GET", "/gestion/s/{sid}/periodes", {}),
    ("POST", "/gestion/s/{sid}/periodes", PERIOD_FORM),
    ("GET", "/gestion/s/{sid}/periodes/{period}", {}),
    ("POST", "/gestion/s/{sid}/periodes/{period}", PERIOD_FORM),
    ("GET", "/gestion/s/{sid}/periodes/{period}/attribution", {}),
    ("GET", "/gestion/s/{sid}/periodes/{period}/attribution.csv", {}),
    ("GET", "/gestion/s/{sid}/periodes/{period}/attribution.xlsx", {}),
    ("POST", "/gestion/s/{sid}/periodes/{period}/attribuer", {}),
    # messages
    ("GET", "/gestion/s/{sid}/messages", {}),
    ("POST", "/gestion/s/{sid}/messages/diffusion", {"activite": "{aid}", "texte": "X"}),
    ("GET", "/gestion/s/{sid}/messages/familles/{family_id}", {}),
    ("POST", "/gestion/s/{sid}/messages/familles/{family_id}", {"texte": "X"}),
    ("GET", "/gestion/s/{sid}/messages/pieces/{attachment}", {}),
    # declared absences
    ("POST", "/gestion/s/{sid}/absences/reglage", {"jour_meme": "oui", "jusqua": "09:30"}),
    ("POST", "/gestion/s/{sid}/absences/{absence}", {"decision": "justifiee"}),
    ("GET", "/gestion/s/{sid}/absences/{absence}/justificatif", {}),
    # kitchen, statistics, quotient bands, year rollover, family-file settings
    ("GET", "/gestion/s/{sid}/cuisine", {}),
    ("POST", "/gestion/s/{sid}/cuisine/adresse", {"adresse": "cuisine@example.fr"}),
    ("GET", "/gestion/s/{sid}/statistiques", {}),
    ("GET", "/gestion/s/{sid}/tranches", {}),
    ("POST", "/gestion/s/{sid}/tranches", {"tranches": "A;0;500"}),
    ("POST", "/gestion/s/{sid}/tranches/appliquer", {}),
    ("POST", "/gestion/s/{sid}/tranches/familles/{fid}", {"tranche": "A", "motif": "x"}),
    ("GET", "/gestion/s/{sid}/annee", {}),
    ("POST", "/gestion/s/{sid}/annee/zone", {"zone": "C"}),
    ("POST", "/gestion/s/{sid}/annee/reconduire", {"du": "2026-09-01", "au": "2027-09-01"}),
    ("GET", "/gestion/s/{sid}/dossiers/reglages", {}),
    ("POST", "/gestion/s/{sid}/dossiers/reglages", {"champs": "allergies"}),
    # booking on a family's behalf
    ("GET", "/gestion/s/{sid}/familles/{fid}/reservations", {}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/reservations/basculer", TAP_FORM),
    ("GET", "/gestion/s/{sid}/familles/{fid}/reservations/jour/{day}", {}),
    ("GET", "/gestion/s/{sid}/familles/{fid}/reservations/horaires?" + TIMES_QUERY, {}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/reservations/horaires", {}),
    ("GET", "/gestion/s/{sid}/familles/{fid}/reservations/recapitulatif", {}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/reservations/valider", {}),
    ("GET", "/gestion/s/{sid}/familles/{fid}/reservations/resultat", {}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/reservations/abandonner", {}),
    ("GET", "/gestion/s/{sid}/familles/{fid}/reservations/importer", {}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/reservations/importer", {}),
    ("POST", "/gestion/s/{sid}/familles/{fid}/reservations/derogation", {"delais": "1"}),
    # attendance tools
    ("GET", "/gestion/s/{sid}/presences/horaires?activite={aid}&jour={past_day}", {}),
    ("POST", "/gestion/s/{sid}/presences/horaires", SHEET),
    ("POST", "/gestion/s/{sid}/presences/imprevu", SHEET | {"personne": "{pid}"}),
    ("POST", "/gestion/s/{sid}/presences/tous-presents", SHEET),
    # statement mailing on the régie page
    ("POST", "/gestion/s/{sid}/regie/releves-par-email", {"envoyer": "1"}),
]  # fmt: skip


async def _file_objects(live: LiveServer, office: Office) -> dict[str, dict[str, int]]:
    """A document and a pending change in each structure, for the family-file routes."""
    from portal.domain.family_file import service as family_file
    from portal.tables import EnrolmentRequest, HouseholdAdult, PendingChange
    from tests.factories import add_file_rules

    objects = {}
    for key, world in (("mine", office.mine), ("theirs", office.theirs)):
        types = await add_file_rules(world.structure, fields=())
        family_id = int(world.family.family.id)
        doc = await family_file.upload_document(
            live.settings.documents_dir, family_id, None, types["caf"], None, "a.pdf",
            b"%PDF-1.4 test",
        )  # fmt: skip
        change = PendingChange(
            family=family_id, person=world.family.people[0].id, changes={"allergies": ["", "X"]}
        )
        await change.save()
        asked = EnrolmentRequest(
            family=family_id, person=world.family.people[0].id, activity=world.activity.id
        )
        await asked.save()
        adult = HouseholdAdult(family=family_id, first_name="Marie", last_name="DUPONT")
        await adult.save()
        objects[key] = {
            "doc": doc.id,
            "cid": int(change.id),
            "erid": int(asked.id),
            "adult": int(adult.id),
        }
        objects[key] |= await _sepa_objects(world.structure, family_id, key)
        staff = office.agent if key == "mine" else office.other_agent
        objects[key] |= await _feature_objects(live, world, staff)
        # A night's export file in each structure's folder.
        folder = live.settings.exports_dir / str(world.structure.slug)
        write_csv_file(folder / "transmission-2026-12-01.csv", Table(("a",), [("b",)]))
    return objects


async def _sepa_objects(structure: Structure, family_id: int, key: str) -> dict[str, int]:
    """A creditor, a mandate and a posted debit of a run, for the direct debit routes."""
    from portal.domain.money.service import ensure_wallets
    from portal.tables import SepaCreditor, SepaDebit, SepaDebitRun, SepaMandate

    await SepaCreditor(
        structure=structure.id, creditor_name="Mairie", creditor_id="FR72ZZZ123456",
        iban="FR7630006000011234567890189", bic="AGRIFRPPXXX",
    ).save()  # fmt: skip
    mandate = SepaMandate(
        family=family_id, reference=f"TEST-{key}", holder="DUPONT",
        iban="FR1420041010050500013M02606", bic="PSSTFRPP", signed_on=date(2026, 10, 1),
    )  # fmt: skip
    await mandate.save()
    run = SepaDebitRun(structure=structure.id, month="2026-11", collection_date=date(2026, 11, 20))
    await run.save()
    wallet = next(iter((await ensure_wallets(family_id)).values()))
    debit = SepaDebit(
        debit_run=run.id, mandate=mandate.id, family=family_id, wallet=wallet,
        amount_cents=1000, end_to_end_id=f"TEST-{key}-1", status="posted",
    )  # fmt: skip
    await debit.save()
    return {"mandate": int(mandate.id), "run": int(run.id), "debit": int(debit.id)}


async def _feature_objects(live: LiveServer, world: World, staff: StaffMember) -> dict[str, int]:
    """A booking period, a message with its attachment and a declared absence with its
    certificate, for the routes of those features."""
    from portal.domain.absences import service as absences
    from portal.domain.booking.opening import PeriodMode
    from portal.domain.messages import service as messages
    from portal.domain.periods import rules as period_rules
    from portal.domain.periods import service as periods
    from portal.tables import Activity, MessageAttachment
    from tests.factories import actor

    # The times page of a booking answers only for an activity that asks for times.
    await Activity.update({Activity.time_entry: True}).where(Activity.id == world.activity.id)
    day = clock.as_date(world.full_day.day)
    settings = period_rules.PeriodSettings(
        "Hiver", (int(world.activity.id),), day, day, clock.utcnow() - timedelta(days=1),
        PeriodMode.FIRST_COME, None, (), (),
    )  # fmt: skip
    period = await periods.save_period(actor(staff), world.sid, settings)
    family_id = int(world.family.family.id)
    message = await messages.send_from_family(
        live.settings.documents_dir, family_id, int(world.family.account.id), "Jean-Paul",
        "Bonjour", messages.Upload("certificat.png", PNG),
    )  # fmt: skip
    attachment = await MessageAttachment.objects().get(MessageAttachment.message == message)
    assert attachment is not None
    declared = await absences.declare(
        live.settings.documents_dir, family_id, None, int(world.accepted[0].id), "Fièvre",
        absences.Certificate("certificat.png", PNG),
    )  # fmt: skip
    return {"period": period, "attachment": int(attachment.id), "absence": declared.id}


def _ids(office: Office, sid_of: str, objects_of: str) -> dict[str, int | str]:
    sid_world = office.mine if sid_of == "mine" else office.theirs
    world = office.mine if objects_of == "mine" else office.theirs
    return {
        "sid": world.sid if sid_of == objects_of else sid_world.sid,
        "aid": world.activity.id,
        "did": world.full_day.id,
        "rid": world.pending[0].id,
        "past": world.past.id,
        "fid": int(world.family.family.id),
        "acc": int(world.family.account.id),
        "nid": world.news.id,
        "pid": int(world.family.people[0].id),
        "family_id": int(world.family.family.id),
        "day": clock.as_date(world.full_day.day).isoformat(),
        "month": clock.as_date(world.full_day.day).isoformat()[:7],
        "past_day": clock.as_date(world.past_day.day).isoformat(),
    }


def _fill(template: str, ids: dict[str, int | str]) -> str:
    for key, value in ids.items():
        template = template.replace("{" + key + "}", str(value))
    return template


async def _call(browser: Browser, method: str, url: str, data: dict[str, str], page: str) -> int:
    if method == "GET":
        response = await browser.get(url)
    elif "familles/import" in url or "regie/en-tete" in url:
        await browser.get(page)
        response = await browser.post(
            url, files={"x": ("x.txt", b"")}, data={**data, "_csrf_token": browser.last_csrf or ""}
        )
    else:
        response = await browser.submit(url, data, page=page)
    return response.status_code


async def test_every_route_of_another_structure_is_404(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    own_page = f"/gestion/s/{office.mine.sid}"
    objects = await _file_objects(live, office)
    journal_before = await AuditLog.count()  # building the objects above journals some
    failures = []
    for method, template, form in ROUTES:
        # The other structure in the URL, and its ids typed into our own structure's URLs.
        for sid_of in ("theirs", "mine"):
            ids = _ids(office, sid_of, "theirs") | objects["theirs"]
            ids_in_url = "{" in template.replace("{sid}", "")
            ids_in_form = any("{" in value for value in form.values())
            if sid_of == "mine" and not ids_in_url and not ids_in_form:
                continue  # no object id: the URL is simply ours
            url = _fill(template, ids)
            data = {k: _fill(v, ids) for k, v in form.items()}
            status = await _call(agent, method, url, data, own_page)
            # Their ids only in the fields of our own form: a 404, or a form sent back with
            # its French reason (the journal check below proves nothing was written).
            refused = {404, 400} if sid_of == "mine" and not ids_in_url else {404}
            if status not in refused:
                failures.append(f"{method} {url} {data} -> {status}")
    # Our own sheet with their child typed in: the child is not ours to mark present.
    mine = _ids(office, "mine", "mine")
    their_child = str(office.theirs.other.people[1].id)
    typed = {"activite": str(mine["aid"]), "jour": str(mine["past_day"]), "personne": their_child}
    url = f"{own_page}/presences/imprevu"
    status = await _call(agent, "POST", url, typed, own_page)
    if status != 404:
        failures.append(f"POST {url} {typed} -> {status}")
    assert not failures, "\n".join(failures)
    assert await AuditLog.count() == journal_before  # nothing of theirs was changed


async def test_the_route_list_covers_every_back_office_route(live: LiveServer) -> None:
    served = {
        route.path
        for route in live.app.routes
        if route.path.startswith(("/gestion/s/", "/partials/gestion/"))
    }
    listed = {
        template.split("?")[0]
        .replace("{sid}", "{sid:int}")
        .replace("{aid}", "{aid:int}")
        .replace("{did}", "{did:int}")
        .replace("{rid}", "{rid:int}")
        .replace("{past}", "{rid:int}")
        .replace("{fid}", "{fid:int}")
        .replace("{nid}", "{nid:int}")
        .replace("{acc}", "{acc:int}")
        .replace("{pid}", "{pid:int}")
        .replace("{doc}", "{doc_id:int}")
        .replace("{cid}", "{cid:int}")
        .replace("{erid}", "{erid:int}")
        .replace("{adult}", "{adult_id:int}")
        .replace("{mandate}", "{mandate_id:int}")
        .replace("{run}", "{run_id:int}")
        .replace("{debit}", "{debit_id:int}")
        .replace("{level}", "{level:int}")
        .replace("2026-12-01.csv", "{name:str}")
        .replace("{period}", "{pid:int}")
        .replace("{family_id}", "{family_id:int}")
        .replace("{attachment}", "{attachment_id:int}")
        .replace("{absence}", "{declaration_id:int}")
        .replace("{day}", "{day_text:str}")
        for _, template, _ in ROUTES
    }
    assert served == listed


async def test_own_structure_pages_answer(live: LiveServer, agent: Browser, office: Office) -> None:
    """The same GET routes with our own ids work: the 404s above are about scope."""
    ids = _ids(office, "mine", "mine") | (await _file_objects(live, office))["mine"]
    for method, template, _ in ROUTES:
        if method == "GET":
            url = _fill(template, ids)
            response = await agent.get(url)
            if template in SENDS_BACK:
                assert response.status_code == 303, url
                assert response.headers["location"].startswith(url.rsplit("/", 1)[0]), url
            else:
                assert response.status_code == 200, url


async def test_structure_switch_and_typed_ids(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    response = await agent.get(f"/gestion?structure={office.theirs.sid}")
    assert response.status_code == 404
    response = await agent.get("/gestion?structure=abc")
    assert response.status_code == 404
    response = await agent.get(f"/gestion?structure={office.mine.sid}")
    assert response.headers["location"] == f"/gestion/s/{office.mine.sid}"
    response = await agent.get("/gestion/s/999999", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert "ne vous est pas rattachée" in response.text


async def test_every_structure_route_takes_the_checked_structure(live: LiveServer) -> None:
    """The structure check is the `ctx` dependency: a handler without it would skip it."""
    import inspect

    unchecked = [
        f"{route.path} {handler.fn.__name__}"
        for route in live.app.routes
        if route.path.startswith(("/gestion/s/{sid:int}", "/partials/gestion/s/{sid:int}"))
        for handler in getattr(route, "route_handlers", [])
        if handler.fn.__name__ != "options_handler"  # Litestar's own OPTIONS answers
        and "ctx" not in inspect.signature(handler.fn).parameters
    ]
    assert unchecked == []
