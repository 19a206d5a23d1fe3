"""The two facts that booking periods' priorities read from the family file, through HTTP:
a child's recognised disability (health data, declared by the parent and validated by
staff, like the PAI) and the proof that the parents work (typed by staff only)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from portal.domain.family_file import service as family_file
from portal.domain.file_review import health_access
from portal.tables import AuditLog, ChildFile, FamilyContact, PendingChange, StaffStructure
from tests.factories import PASSWORD
from tests.web.conftest import Browser, LiveServer
from tests.web.family_file.test_parent_file import plain
from tests.web.staff.conftest import Office, decide_change

PROOF_NOTE = (
    "non justifiée : déposez une attestation d'employeur pour chaque parent si votre "
    "structure en tient compte pour ses priorités"
)


@asynccontextmanager
async def _parent(live: LiveServer, login: str) -> AsyncIterator[Browser]:
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await browser.login(login, PASSWORD)
        yield browser


async def _after(action: str) -> list[dict[str, object]]:
    rows = await AuditLog.select(AuditLog.after).where(AuditLog.action == action)
    return [json.loads(r["after"]) if isinstance(r["after"], str) else r["after"] for r in rows]


async def test_a_parents_disability_declaration_applies_once_staff_validate_it(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    world = office.mine
    paolo = world.family.people[0]
    async with _parent(live, "a-dupont") as parent:
        form = plain(await parent.get(f"/dossier/enfants/{paolo.id}"))
        assert "Situation de handicap reconnue (MDPH, AEEH)" in form
        assert "La structure vérifie le justificatif avant de l'appliquer." in form
        no_end = await parent.submit(f"/dossier/enfants/{paolo.id}", {"handicap": "oui"})
        assert no_end.status_code == 400
        assert "Fin de la notification MDPH / AEEH : indiquez la date de fin" in plain(no_end)
        bad_end = await parent.submit(
            f"/dossier/enfants/{paolo.id}", {"handicap": "oui", "fin_handicap": "32/13/2028"}
        )
        assert bad_end.status_code == 400
        assert "Fin de la notification MDPH / AEEH : date invalide" in plain(bad_end)
        assert await PendingChange.count() == 0

        sent = await parent.submit(
            f"/dossier/enfants/{paolo.id}", {"handicap": "oui", "fin_handicap": "31/08/2028"}
        )
        assert sent.status_code == 303, plain(sent)
        child = await ChildFile.objects().get(ChildFile.person == paolo.id)
        assert child is not None and child.disability is False  # waits for staff
        change = await PendingChange.objects().get(PendingChange.person == paolo.id)
        assert change is not None and change.status == "pending"
        mine = plain(await parent.get("/dossier"))
        assert "Situation de handicap reconnue (MDPH, AEEH) : non → oui" in mine
        assert "Fin de la notification MDPH / AEEH : non renseigné → 31/08/2028" in mine
        assert "Handicap reconnu (MDPH, AEEH) non" in mine

    base = f"/gestion/s/{world.sid}"
    listed = plain(await agent.get(f"{base}/dossiers?liste=modifications"))
    assert "Situation de handicap reconnue (MDPH, AEEH) : non → oui" in listed
    ok = await decide_change(agent, world, change.id)
    assert ok.status_code == 303
    child = await ChildFile.objects().get(ChildFile.person == paolo.id)
    assert child is not None and child.disability is True
    assert child.disability_end == date(2028, 8, 31)
    staff_page = plain(await agent.get(f"{base}/familles/{world.family.family.id}/dossier"))
    assert "Handicap reconnu (MDPH, AEEH) oui, jusqu'au 31/08/2028" in staff_page

    async with _parent(live, "a-dupont") as parent:
        mine = plain(await parent.get("/dossier"))
        assert "Handicap reconnu (MDPH, AEEH) oui, jusqu'au 31/08/2028" in mine
        export = await parent.get("/dossier/export")
        data = json.loads(zipfile.ZipFile(io.BytesIO(export.content)).read("dossier.json"))
        [exported] = [c for c in data["famille"]["children"] if c["person_id"] == paolo.id]
        assert exported["disability"] is True and exported["disability_end"] == "2028-08-31"


async def test_staff_edit_the_disability_at_once_audited_and_hidden_without_health_access(
    agent: Browser, office: Office
) -> None:
    world = office.mine
    family_id = world.family.family.id
    paolo = world.family.people[0]
    base = f"/gestion/s/{world.sid}"
    edit = f"{base}/familles/{family_id}/enfants/{paolo.id}/modifier"
    no_end = await agent.submit(edit, {"handicap": "oui"})
    assert no_end.status_code == 400
    assert "Fin de la notification MDPH / AEEH : indiquez la date de fin" in plain(no_end)
    assert await ChildFile.count().where(ChildFile.disability.eq(True)) == 0

    ok = await agent.submit(edit, {"handicap": "oui", "fin_handicap": "2029-07-01"})
    assert ok.status_code == 303, plain(ok)
    child = await ChildFile.objects().get(ChildFile.person == paolo.id)
    assert child is not None and child.disability is True
    assert child.disability_end == date(2029, 7, 1)
    assert await PendingChange.count() == 0  # staff are the validators
    [after] = await _after("file.child_edit")
    assert after["disability"] is True and after["disability_end"] == "2029-07-01"
    sheet = plain(await agent.get(f"{base}/familles/{family_id}/enfants/{paolo.id}/fiche"))
    assert "Handicap reconnu (MDPH, AEEH) oui , jusqu'au 01/07/2029" in sheet  # <strong>oui
    kitchen = plain(
        await agent.get(
            f"{base}/sante?activite={world.activity.id}&jour={world.full_day.day.isoformat()}"
        )
    )
    assert "Paolo" in kitchen and "oui (jusqu'au 01/07/2029)" in kitchen

    await StaffStructure.update({StaffStructure.health_access: False}).where(
        StaffStructure.staff == office.agent.id
    )
    page = plain(await agent.get(f"{base}/familles/{family_id}/dossier"))
    assert "Handicap reconnu" not in page and "01/07/2029" not in page
    blanked = health_access.without_health(await family_file.file_view(family_id))
    assert [(c.disability, c.disability_end) for c in blanked.children] == [(False, None)] * 3
    # Nor does the journal tell it: the edit is listed, its health values masked.
    journal = plain(await agent.get(f"{base}/journal"))
    assert "Fiche enfant modifiée" in journal and "01/07/2029" not in journal
    assert "Situation de handicap reconnue (MDPH, AEEH)" in journal
    assert "(donnée de santé masquée)" in journal
    await StaffStructure.update({StaffStructure.health_access: True}).where(
        StaffStructure.staff == office.agent.id
    )
    assert "01/07/2029" in plain(await agent.get(f"{base}/journal"))
    # The entry belongs to the family: its filter finds it (the entry names the child).
    of_family = plain(await agent.get(f"{base}/journal?famille={family_id}"))
    assert "Fiche enfant modifiée" in of_family and "01/07/2029" in of_family


async def test_only_staff_set_the_proof_that_the_parents_work(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    world = office.mine
    family_id = world.family.family.id
    base = f"/gestion/s/{world.sid}/familles/{family_id}"
    async with _parent(live, "a-dupont") as parent:
        assert f"Activité professionnelle des parents {PROOF_NOTE}" in plain(
            await parent.get("/dossier")
        )

    saved = await agent.submit(
        f"{base}/coordonnees",
        {"adresse": "2 rue Basse", "activite_parents_jusqu": "31/08/2099"},
        page=f"{base}/dossier",
    )
    assert saved.status_code == 303, plain(saved)
    contact = await FamilyContact.objects().get(FamilyContact.family == family_id)
    assert contact is not None and contact.parents_working_until == date(2099, 8, 31)
    [after] = await _after("file.contact_edit")
    assert after["parents_working_until"] == "2099-08-31"
    staff_page = await agent.get(f"{base}/dossier")
    assert "Parents en activité professionnelle justifiée jusqu'au 31/08/2099" in plain(staff_page)
    assert 'name="activite_parents_jusqu" type="date" value="2099-08-31"' in staff_page.text

    invalid = await agent.submit(
        f"{base}/coordonnees",
        {"adresse": "3 rue Neuve", "activite_parents_jusqu": "31/02/2099"},
        page=f"{base}/dossier",
    )
    assert invalid.status_code == 400
    assert "Activité professionnelle des parents : date invalide (jj/mm/aaaa)." in plain(invalid)
    contact = await FamilyContact.objects().get(FamilyContact.family == family_id)
    assert contact is not None and contact.address == "2 rue Basse"
    assert contact.parents_working_until == date(2099, 8, 31)
    assert len(await _after("file.contact_edit")) == 1

    async with _parent(live, "a-dupont") as parent:
        mine = plain(await parent.get("/dossier"))
        assert (
            "Activité professionnelle des parents justifiée jusqu'au 31/08/2099 "
            "(vérifiée par la structure)"
        ) in mine
        # Posted by hand, the field is ignored: neither cleared nor moved.
        for forged in ("", "2100-01-01"):
            sent = await parent.submit(
                "/dossier/famille",
                {"adresse": "2 rue Basse", "activite_parents_jusqu": forged,
                 "parents_working_until": forged},
                page="/dossier",
            )  # fmt: skip
            assert sent.status_code == 303
            contact = await FamilyContact.objects().get(FamilyContact.family == family_id)
            assert contact is not None and contact.parents_working_until == date(2099, 8, 31)
    other_id = world.other.family.id
    async with _parent(live, "a-martin") as parent:
        sent = await parent.submit(
            "/dossier/famille",
            {"adresse": "9 rue Haute", "activite_parents_jusqu": "2100-01-01",
             "parents_working_until": "2100-01-01"},
            page="/dossier",
        )  # fmt: skip
        assert sent.status_code == 303
        contact = await FamilyContact.objects().get(FamilyContact.family == other_id)
        assert contact is not None and contact.address == "9 rue Haute"
        assert contact.parents_working_until is None

    cleared = await agent.submit(
        f"{base}/coordonnees",
        {"adresse": "2 rue Basse", "activite_parents_jusqu": ""},
        page=f"{base}/dossier",
    )
    assert cleared.status_code == 303
    contact = await FamilyContact.objects().get(FamilyContact.family == family_id)
    assert contact is not None and contact.parents_working_until is None
    assert "Parents en activité professionnelle non justifiée" in plain(
        await agent.get(f"{base}/dossier")
    )
