"""Read-only roles read the back office without the forms they may not post.

Direction reads every page of its structure (OPERATIONS_READ, MONEY_READ) but acts on
none: those pages show it their state, never a button that would answer 403. An agent,
a régisseur each see only the forms of their own role, and the agent's still work."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

from portal.domain.money import service as money
from portal.domain.staff.roles import Role, format_roles
from portal.tables import (
    AbsenceDeclaration,
    BackOfficeSettings,
    BookingPeriod,
    BookingPeriodActivity,
    DocumentType,
    EnrolmentRequest,
    FamilyDocument,
    HouseholdAdult,
    Message,
    PendingChange,
    ReminderSettings,
    SepaCreditor,
    SepaDebit,
    SepaDebitRun,
    SepaMandate,
    StaffStructure,
)
from tests.factories import World, make_days, make_staff, today
from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import Office, staff_login
from tests.web.staff.test_pages import plain

FORM_TAG = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
HREF = re.compile(r'href="([^"]*)"')
ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')
# The one form of staff_base.html on every page: the logout (the structure switcher is a
# GET, the own profile a link).
EVERY_PAGE = ["/gestion/deconnexion"]


def post_actions(page: str) -> list[str]:
    """The action of every `<form method="post">` of a page, in order."""
    actions = []
    for tag in FORM_TAG.findall(page):
        attributes = {name.lower(): value for name, value in ATTRIBUTE.findall(tag)}
        if attributes.get("method", "get").lower() == "post":
            actions.append(html.unescape(attributes.get("action", "")))
    return actions


def links(page: str) -> list[str]:
    """Every link target of a page."""
    return [html.unescape(target) for target in HREF.findall(page)]


async def _member(login: str, world: World, *roles: Role) -> None:
    member = await make_staff(login)
    await StaffStructure(
        staff=member.id, structure=world.structure.id, roles=format_roles(roles)
    ).save()


async def _something_to_act_on(world: World) -> int:
    """A declared absence, a pending document and change, an adult without login, a message,
    a period waiting for its allocation and a holiday zone (the year's rollover): every form
    these pages can show. Returns the period's id."""
    family, paolo = world.family.family, world.family.people[0]
    await AbsenceDeclaration(
        family=family.id, reservation=world.accepted[0].id, person=paolo.id, note="fièvre"
    ).save()
    # Not required: without file rules, the family's page sets « dossier complet » by hand.
    kind = DocumentType(structure=world.sid, code="assurance", name="Assurance", required=False)
    await kind.save()
    await FamilyDocument(
        family=family.id, document_type=kind.id, filename="assurance.pdf",
        content_type="application/pdf", size_bytes=12, sha256="0", storage_key="lecture-seule",
    ).save()  # fmt: skip
    await PendingChange(
        family=family.id, person=paolo.id, changes={"school": ["", "Jules Ferry"]},
        status="pending",
    ).save()  # fmt: skip
    await HouseholdAdult(family=family.id, first_name="Marie", last_name="Dupont").save()
    await EnrolmentRequest(family=family.id, person=paolo.id, activity=world.activity.id).save()
    await Message(
        structure=world.sid, family=family.id, from_family=True,
        account=world.family.account.id, author_name="Jean", body="Bonjour",
    ).save()  # fmt: skip
    opens = datetime(2020, 1, 6, 7, 30, tzinfo=UTC)
    period = BookingPeriod(
        structure=world.sid, name="Hiver", first_day=date(2020, 2, 10),
        last_day=date(2020, 2, 21), opens_at=opens, mode="lottery",
        window_ends_at=opens.replace(day=8), seed="graine",
    )  # fmt: skip
    await period.save()
    await BookingPeriodActivity(period=period.id, activity=world.activity.id).save()
    await BackOfficeSettings(structure=world.sid, holiday_zone="A").save()
    return int(period.id)


async def _money_to_act_on(world: World) -> tuple[int, int]:
    """A family in debt for a month (a reminder to send), reminder settings, a SEPA
    creditor, a mandate and a run with a posted debit (a reject to record): every form of
    the régie's pages. Returns the run's and the mandate's ids."""
    family_id = int(world.family.family.id)
    wallet = next(iter((await money.ensure_wallets(family_id)).values()))
    await money.record_correction(wallet, -5000, "Consommations", today() - timedelta(days=30))
    await ReminderSettings(structure=world.sid, low_balance_alerts=True, debt_days=10).save()
    await SepaCreditor(
        structure=world.sid, creditor_name="Mairie", creditor_id="FR72ZZZ123456",
        iban="FR7630006000011234567890189", bic="AGRIFRPPXXX",
    ).save()  # fmt: skip
    mandate = SepaMandate(
        family=family_id, reference="LECTURE-1", holder="DUPONT",
        iban="FR1420041010050500013M02606", bic="PSSTFRPP", signed_on=date(2026, 10, 1),
    )  # fmt: skip
    await mandate.save()
    run = SepaDebitRun(structure=world.sid, month="2026-11", collection_date=date(2026, 11, 20))
    await run.save()
    await SepaDebit(
        debit_run=run.id, mandate=mandate.id, family=family_id, wallet=wallet,
        amount_cents=1000, end_to_end_id="LECTURE-1-1", status="posted",
    ).save()  # fmt: skip
    return int(run.id), int(mandate.id)


def _regie_pages(world: World, run_id: int) -> list[str]:
    """The régie's pages (MONEY_READ), each with the régisseur's forms."""
    base = f"/gestion/s/{world.sid}/regie"
    return [base, f"{base}/relances", f"{base}/prelevement", f"{base}/prelevement/{run_id}"]


def _pages(world: World, period_id: int) -> list[str]:
    """The structure's readable pages that carry forms (for someone allowed to act)."""
    base = f"/gestion/s/{world.sid}"
    fid = world.family.family.id
    aid, day = world.activity.id, world.full_day.day
    return [
        f"{base}/decisions",
        f"{base}/presences?activite={aid}&jour={day.isoformat()}",
        f"{base}/familles",
        f"{base}/familles/{fid}",
        f"{base}/familles/{fid}/dossier",
        f"{base}/familles/{fid}/enfants/{world.family.people[0].id}/modifier",
        f"{base}/dossiers/reglages",
        f"{base}/messages",
        f"{base}/messages/familles/{fid}",
        f"{base}/activites",
        f"{base}/activites/{aid}",
        f"{base}/activites/{aid}/journees?mois={day.strftime('%Y-%m')}",
        f"{base}/reglements?famille={fid}",
        f"{base}/periodes",
        f"{base}/periodes/{period_id}",
        f"{base}/periodes/{period_id}/attribution",
        f"{base}/actualites",
        f"{base}/actualites/{world.news.id}",
        f"{base}/cuisine",
        f"{base}/transmission",
        f"{base}/tranches",
        f"{base}/annee",
        f"{base}/inscriptions",
        f"{base}/activites/{aid}/inscriptions-portail",
    ]


async def test_direction_reads_every_page_without_a_form_it_could_not_post(
    live: LiveServer, office: Office
) -> None:
    world = office.mine
    period_id = await _something_to_act_on(world)
    run_id, _ = await _money_to_act_on(world)
    await _member("lecture", world, Role.DIRECTION)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "lecture")
        for path in _pages(world, period_id) + _regie_pages(world, run_id):
            page = await browser.get(path)
            assert page.status_code == 200, path
            assert post_actions(page.text) == EVERY_PAGE, path
        # What the forms would have changed still reads on each page, as text.
        base = f"/gestion/s/{world.sid}"
        decisions = plain(await browser.get(f"{base}/decisions"))
        assert "« fièvre »" in decisions and "Justifiée" not in decisions
        assert "Absences signalées le jour même : acceptées le matin jusqu'à" in decisions
        assert "En attente de décision" in decisions and "Accepter" not in decisions
        day = world.full_day.day
        sheet = plain(
            await browser.get(f"{base}/presences?activite={world.activity.id}&jour={day}")
        )
        assert "Feuille non relevée" in sheet and "✓ Présent" in sheet
        assert "Tous présents" not in sheet and "Saisir les horaires" not in sheet
        days = f"{base}/activites/{world.activity.id}/journees?mois={day.strftime('%Y-%m')}"
        assert "2 (+2 en attente)" in plain(await browser.get(days))
        assert "Zone A." in plain(await browser.get(f"{base}/annee"))
        assert "Selon le QF" in plain(await browser.get(f"{base}/tranches"))
        file = plain(await browser.get(f"{base}/familles/{world.family.family.id}/dossier"))
        assert "Marie Dupont · sans identifiant propre" in file and "Jules Ferry" in file
        regie = plain(await browser.get(f"{base}/regie"))
        assert "Les relevés ne sont pas envoyés par e-mail." in regie
        assert "Signataire des attestations" in regie
        assert "Générer toutes les attestations (ZIP)" in regie  # a GET, open to Direction
        reminders = plain(await browser.get(f"{base}/regie/relances"))
        assert world.family.family.name in reminders and "50,00" in reminders
        assert "Les alertes de solde bas sont envoyées." in reminders
        assert "en dette depuis 10 jours ou plus" in reminders and "Envoyer la" not in reminders
        sepa = await browser.get(f"{base}/regie/prelevement")
        assert "LECTURE-1" in plain(sepa) and "Actif" in plain(sepa)
        assert 'class="read-only-fields" disabled' in sepa.text and "FR72ZZZ123456" in sepa.text
        run = plain(await browser.get(f"{base}/regie/prelevement/{run_id}"))
        assert "10,00" in run and "Comptabiliser" not in run and "Motif du rejet" not in run
        requests = plain(await browser.get(f"{base}/inscriptions"))
        assert "En attente de réponse" in requests and "Accepter" not in requests
        offer = await browser.get(f"{base}/activites/{world.activity.id}/inscriptions-portail")
        assert 'class="read-only-fields" disabled' in offer.text


async def test_the_agent_still_finds_its_forms(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    world = office.mine
    period_id = await _something_to_act_on(world)
    base = f"/gestion/s/{world.sid}"
    decisions = post_actions((await agent.get(f"{base}/decisions")).text)
    for pending in world.pending:
        assert f"{base}/decisions/{pending.id}" in decisions
    assert f"{base}/absences/reglage" in decisions
    day = world.full_day.day.isoformat()
    attendance = (await agent.get(f"{base}/presences?activite={world.activity.id}&jour={day}")).text
    marks = post_actions(attendance)
    for accepted in world.accepted:
        assert f"{base}/presences/{accepted.id}" in marks
    assert f"{base}/presences/tous-presents" in marks
    assert 'hx-post="/partials' in attendance
    # The htmx fragments, rendered without the page's context, keep their buttons.
    first, second = world.pending
    fragment = await agent.submit(
        f"/partials{base}/decisions/{first.id}",
        {"decision": "refuser", "journee": str(world.decision_day.id)},
        page=f"{base}/decisions",
    )
    assert fragment.status_code == 200
    assert post_actions(fragment.text) == [f"{base}/decisions/{second.id}"]
    row = await agent.submit(
        f"/partials{base}/presences/{world.accepted[0].id}",
        {"etat": "absent", "activite": str(world.activity.id), "jour": day},
        page=f"{base}/presences",
    )
    assert row.status_code == 200
    assert post_actions(row.text) == [f"{base}/presences/{world.accepted[0].id}"]
    for path in _pages(world, period_id):
        page = await agent.get(path)
        assert page.status_code == 200, path
        if not path.endswith("/activites"):  # the list only links to each activity
            assert len(post_actions(page.text)) > len(EVERY_PAGE), path


async def test_each_role_sees_the_forms_of_its_own_routes_only(
    live: LiveServer, office: Office
) -> None:
    world = office.mine
    base = f"/gestion/s/{world.sid}"
    await _member("guichet", world, Role.REGISSEUR)
    await _member("terrain", world, Role.AGENT)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "guichet")
        bands = post_actions((await browser.get(f"{base}/tranches")).text)
        assert f"{base}/tranches" in bands
        for path in (f"{base}/familles", f"{base}/familles/{world.family.family.id}"):
            assert post_actions((await browser.get(path)).text) == EVERY_PAGE, path
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "terrain")
        assert post_actions((await browser.get(f"{base}/tranches")).text) == EVERY_PAGE
        assert f"{base}/familles/import" in post_actions(
            (await browser.get(f"{base}/familles")).text
        )


async def test_the_regisseur_still_finds_the_forms_of_the_regie(
    live: LiveServer, office: Office
) -> None:
    world = office.mine
    run_id, mandate_id = await _money_to_act_on(world)
    debit = await SepaDebit.select(SepaDebit.id).where(SepaDebit.debit_run == run_id).first()
    assert debit is not None
    base = f"/gestion/s/{world.sid}/regie"
    expected = {
        base: [f"{base}/releves-par-email", f"{base}/categories", f"{base}/en-tete"],
        f"{base}/relances": [
            f"{base}/relances/envoyer", f"{base}/relances/lettre", f"{base}/relances/modeles/1",
            f"{base}/relances/modeles/2", f"{base}/relances/parametres",
            f"{base}/relances/soldes-bas",
        ],
        f"{base}/prelevement": [
            f"{base}/prelevement/lancer", f"{base}/prelevement/mandats/{mandate_id}/revoquer",
            f"{base}/prelevement/mandats", f"{base}/prelevement/parametres",
        ],
        f"{base}/prelevement/{run_id}": [
            f"{base}/prelevement/{run_id}/comptabiliser",
            f"{base}/prelevement/rejets/{debit['id']}",
        ],
    }  # fmt: skip
    assert list(expected) == _regie_pages(world, run_id)
    await _member("guichet", world, Role.REGISSEUR)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "guichet")
        for path, actions in expected.items():
            page = await browser.get(path)
            assert page.status_code == 200, path
            assert sorted(post_actions(page.text)) == sorted(actions + EVERY_PAGE), path


async def test_the_agent_alone_still_finds_the_enrolment_forms(
    live: LiveServer, office: Office
) -> None:
    world = office.mine
    await _something_to_act_on(world)
    asked = await EnrolmentRequest.select(EnrolmentRequest.id).first()
    assert asked is not None
    base = f"/gestion/s/{world.sid}"
    offer = f"{base}/activites/{world.activity.id}/inscriptions-portail"
    await _member("terrain", world, Role.AGENT)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "terrain")
        requests = await browser.get(f"{base}/inscriptions")
        assert f"{base}/inscriptions/{asked['id']}/decision" in post_actions(requests.text)
        assert offer in post_actions((await browser.get(offer)).text)
        assert "read-only-fields" not in (await browser.get(offer)).text


async def test_links_lead_only_to_pages_the_reader_may_open(
    live: LiveServer, office: Office
) -> None:
    """Creating an activity is the agents' (OPERATIONS); the attendance sheets, decisions
    and family files are read by agents and Direction (OPERATIONS_READ), not the régie."""
    world = office.mine
    base = f"/gestion/s/{world.sid}"
    fid = world.family.family.id
    await _member("lecture", world, Role.DIRECTION)
    await _member("guichet", world, Role.REGISSEUR)
    await _member("terrain", world, Role.AGENT)
    await make_days(world.activity, today())  # a « Présences » link on the dashboard
    new = f"{base}/activites/nouvelle"
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "terrain")
        assert new in links((await browser.get(f"{base}/activites")).text)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "lecture")
        assert new not in links((await browser.get(f"{base}/activites")).text)
        board = links((await browser.get(base)).text)
        assert any(t.startswith(f"{base}/presences?") for t in board)
        assert any(t.startswith(f"{base}/decisions?") for t in board)
        assert f"{base}/familles/{fid}/dossier" in links(
            (await browser.get(f"{base}/familles/{fid}")).text
        )
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "guichet")
        board = links((await browser.get(base)).text)
        assert not [t for t in board if t.startswith((f"{base}/presences", f"{base}/decisions"))]
        assert world.activity.name in plain(await browser.get(base))
        family = links((await browser.get(f"{base}/familles/{fid}")).text)
        assert f"{base}/familles/{fid}/dossier" not in family
        assert f"{base}/reglements?famille={fid}" in family
        found = await browser.get(f"{base}/recherche?q={world.family.family.name}")
        assert f"{base}/familles/{fid}" in links(found.text)
        assert not [t for t in links(found.text) if t.endswith("/dossier")]
        for target in [
            new,
            f"{base}/presences",
            f"{base}/decisions",
            f"{base}/familles/{fid}/dossier",
        ]:
            assert (await browser.get(target)).status_code == 403, target
