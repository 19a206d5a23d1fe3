"""Staff checks of the family file through HTTP: a parent uploads, the agent validates or
refuses (the parent is e-mailed), pending health changes, lists, search, audited reads, and
another structure's ids are 404."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from openpyxl import load_workbook

from portal.domain.booking.scope import load_scope
from portal.tables import AuditLog, ChildFile, FamilyDocument, OutboxEmail, PendingChange
from tests.factories import PASSWORD, add_file_rules
from tests.web.conftest import Browser, LiveServer
from tests.web.family_file.test_parent_file import PDF, PNG, plain, upload
from tests.web.staff.conftest import Office, decide_change


@asynccontextmanager
async def _parent(live: LiveServer, login: str) -> AsyncIterator[Browser]:
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await browser.login(login, PASSWORD)
        yield browser


async def test_validate_and_refuse_documents_lifts_the_block(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    world = office.mine
    ids = await add_file_rules(world.structure, fields=())
    family_id = int(world.family.family.id)
    scope = await load_scope(family_id)
    blocked = scope.person_block_reasons(world.family.people[0].id)
    assert "Attestation CAF/quotient familial : à fournir" in blocked[0].message
    assert blocked[0].link == "/dossier"

    async with _parent(live, "a-dupont") as parent:
        assert (await upload(parent, str(ids["caf"]), "caf.pdf", PDF)).status_code == 303
        for person in world.family.people:
            sent = await upload(
                parent, f"{ids['assurance']}:{person.id}", "a.png", PNG, "image/png"
            )
            assert sent.status_code == 303
    base = f"/gestion/s/{world.sid}"
    lists = plain(await agent.get(f"{base}/dossiers?liste=documents"))
    assert "Documents à vérifier (4)" in lists
    csv = await agent.get(f"{base}/dossiers?liste=documents&format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "Attestation CAF/quotient familial" in csv.content.decode("utf-8-sig")
    xlsx = await agent.get(f"{base}/dossiers?liste=documents&format=xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.freeze_panes == "A2"
    assert any(
        "Attestation CAF/quotient familial" in str(c)
        for r in sheet.iter_rows(values_only=True)
        for c in r
    )

    docs = await FamilyDocument.objects().order_by(FamilyDocument.id)
    page = f"{base}/familles/{family_id}/dossier"
    no_date = await agent.submit(
        f"{base}/documents/{docs[0].id}/decision",
        {"decision": "valider", "famille": str(family_id)},
        page=page,
    )
    assert no_date.status_code == 400
    assert "indiquez jusqu'à quand le document est valable" in plain(no_date)
    no_reason = await agent.submit(
        f"{base}/documents/{docs[1].id}/decision",
        {"decision": "refuser", "famille": str(family_id)},
        page=page,
    )
    assert no_reason.status_code == 400
    assert "Indiquez le motif du refus" in plain(no_reason)

    for doc in docs[:-1]:
        ok = await agent.submit(
            f"{base}/documents/{doc.id}/decision",
            {"decision": "valider", "valable_jusqu": "2099-08-31", "famille": str(family_id)},
            page=page,
        )
        assert ok.status_code == 303
    refused = await agent.submit(
        f"{base}/documents/{docs[-1].id}/decision",
        {"decision": "refuser", "motif": "Illisible", "famille": str(family_id)},
        page=page,
    )
    assert refused.status_code == 303
    scope = await load_scope(family_id)
    reasons = scope.person_block_reasons(world.family.people[0].id)
    assert [r.message for r in reasons] == [
        "Votre dossier famille est incomplet : les réservations sont bloquées. Il manque : "
        "Assurance extrascolaire (Lina) : refusé."
    ]
    mails = await OutboxEmail.objects().order_by(OutboxEmail.id)
    assert len(mails) == 4
    assert mails[-1].subject == "Document refusé : Assurance extrascolaire"
    assert "Illisible" in mails[-1].body_text

    async with _parent(live, "a-dupont") as parent:
        mine = plain(await parent.get("/dossier"))
        assert "Motif : Illisible" in mine
        assert "Valable jusqu'au 31/08/2099" in mine
        lina = world.family.people[2]
        assert (
            await upload(parent, f"{ids['assurance']}:{lina.id}", "b.pdf", PDF)
        ).status_code == 303
    last = await FamilyDocument.objects().order_by(FamilyDocument.id, ascending=False).first()
    assert last is not None
    await agent.submit(
        f"{base}/documents/{last.id}/decision",
        {"decision": "valider", "valable_jusqu": "31/08/2099", "famille": str(family_id)},
        page=page,
    )
    scope = await load_scope(family_id)
    assert scope.person_block_reasons(world.family.people[0].id) == []
    assert await AuditLog.count().where(AuditLog.action == "document.validate") == 4


async def test_health_change_validated_then_in_the_kitchen_list(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    world = office.mine
    paolo = world.family.people[0]
    async with _parent(live, "a-dupont") as parent:
        sent = await parent.submit(
            f"/dossier/enfants/{paolo.id}", {"allergies": "Arachide", "regime": "vegetarien"}
        )
        assert sent.status_code == 303
    change = await PendingChange.objects().first()
    assert change is not None
    base = f"/gestion/s/{world.sid}"
    listed = plain(await agent.get(f"{base}/dossiers?liste=modifications"))
    assert "Allergies : non renseigné → Arachide" in listed
    ok = await decide_change(agent, world, change.id)
    assert ok.status_code == 303
    child = await ChildFile.objects().get(ChildFile.person == paolo.id)
    assert child is not None and child.allergies == "Arachide" and child.diet == "vegetarien"
    kitchen = plain(
        await agent.get(
            f"{base}/sante?activite={world.activity.id}&jour={world.full_day.day.isoformat()}"
        )
    )
    assert "Arachide" in kitchen and "Végétarien" in kitchen
    assert await AuditLog.count().where(AuditLog.action == "file.health_list") == 1
    sheet = await agent.get(f"{base}/familles/{world.family.family.id}/enfants/{paolo.id}/fiche")
    assert "Arachide" in plain(sheet)
    assert await AuditLog.count().where(AuditLog.action == "file.health_view") == 1
    mail = await OutboxEmail.objects().first()
    assert mail is not None and mail.subject == "Dossier de Paolo : modification validée"


async def test_search_from_any_staff_page(agent: Browser, office: Office) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    home = await agent.get(base)
    assert f'action="{base}/recherche"' in home.text
    assert "DUPONT" in plain(await agent.get(f"{base}/recherche?q=paol"))
    assert "DUPONT" in plain(await agent.get(f"{base}/recherche?q=a-dupont"))
    assert "DUPONT" in plain(await agent.get(f"{base}/recherche?q=parent@example"))
    other = plain(await agent.get(f"{base}/recherche?q=b-dupont"))
    assert "Aucune famille ne correspond" in other


async def test_another_structures_file_and_documents_are_404(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    theirs = office.theirs
    ids = await add_file_rules(theirs.structure, fields=())
    async with _parent(live, "b-dupont") as parent:
        assert (await upload(parent, str(ids["caf"]), "caf.pdf", PDF)).status_code == 303
    doc = await FamilyDocument.objects().first()
    assert doc is not None
    mine = f"/gestion/s/{office.mine.sid}"
    for url in (
        f"{mine}/documents/{doc.id}",
        f"{mine}/familles/{theirs.family.family.id}/dossier",
        f"{mine}/familles/{theirs.family.family.id}/enfants/{theirs.family.people[0].id}/fiche",
        f"/gestion/s/{theirs.sid}/documents/{doc.id}",
    ):
        assert (await agent.get(url)).status_code == 404, url
    refused = await agent.submit(
        f"{mine}/documents/{doc.id}/decision",
        {"decision": "valider", "valable_jusqu": "2099-01-01"},
        page=f"{mine}/dossiers",
    )
    assert refused.status_code == 404
    assert (await FamilyDocument.objects().first()).status == "pending"  # type: ignore[union-attr]


async def test_a_second_login_for_the_other_parent(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    import re

    from portal.tables import HouseholdAdult

    world = office.mine
    adult = HouseholdAdult(
        family=world.family.family.id, first_name="Marie", last_name="Dupont", link="mère",
        email="marie@example.fr",
    )  # fmt: skip
    await adult.save()
    base = f"/gestion/s/{world.sid}"
    page = f"{base}/familles/{world.family.family.id}/dossier"
    letter = await agent.submit(
        f"{base}/familles/{world.family.family.id}/adultes/{adult.id}/identifiant", {}, page=page
    )
    assert letter.status_code == 200, plain(letter)
    login = re.search(r"data-login>([^<]+)<", letter.text)
    password = re.search(r"data-password>([^<]+)<", letter.text)
    assert login and password, letter.text
    again = await agent.submit(
        f"{base}/familles/{world.family.family.id}/adultes/{adult.id}/identifiant", {}, page=page
    )
    assert again.status_code == 400
    assert "a déjà son propre identifiant" in plain(again)
    async with Browser(base_url=live.url, follow_redirects=False) as marie:
        response = await marie.login(login.group(1), password.group(1))
        assert response.status_code == 303
        follow = await marie.get("/dossier")  # the initial password is changed first
        assert follow.headers["location"] == "/premiere-connexion/mot-de-passe"
    assert await AuditLog.count().where(AuditLog.action == "account.add_login") == 1


async def test_staff_edit_a_child_and_the_family(agent: Browser, office: Office) -> None:
    world = office.mine
    family_id = world.family.family.id
    lina = world.family.people[2]
    base = f"/gestion/s/{world.sid}/familles/{family_id}"
    form = await agent.get(f"{base}/enfants/{lina.id}/modifier")
    assert form.status_code == 200
    bad = await agent.submit(
        f"{base}/enfants/{lina.id}/modifier",
        {"regime": "x"},
        page=f"{base}/enfants/{lina.id}/modifier",
    )
    assert bad.status_code == 400
    assert "Régime alimentaire : choisissez dans la liste." in plain(bad)
    ok = await agent.submit(
        f"{base}/enfants/{lina.id}/modifier",
        {"ecole": "Jules Ferry", "allergies": "Gluten", "regime": "sans_viande",
         "urgence_nom": "Odette", "urgence_tel": "05 56 00 00 00"},
        page=f"{base}/enfants/{lina.id}/modifier",
    )  # fmt: skip
    assert ok.status_code == 303
    child = await ChildFile.objects().get(ChildFile.person == lina.id)
    assert child is not None and child.allergies == "Gluten" and child.diet == "sans_viande"
    assert await PendingChange.count() == 0  # staff edits apply at once
    entry = await AuditLog.objects().where(AuditLog.action == "file.child_edit").first()
    assert entry is not None
    after = json.loads(entry.after) if isinstance(entry.after, str) else entry.after
    assert after["allergies"] == "Gluten" and after["diet"] == "sans_viande"
    contact = await agent.submit(
        f"{base}/coordonnees", {"adresse": "2 rue Basse", "tel_portable": "0611223344"},
        page=f"{base}/dossier",
    )  # fmt: skip
    assert contact.status_code == 303
    assert "2 rue Basse" in plain(await agent.get(f"{base}/dossier"))
