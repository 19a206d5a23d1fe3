"""Health data in the back office (RGPD art. 9): every staff read of the pending-changes
list, whose lines carry allergies, diets and PAI, is audited, on screen and exported; a
member without health access sees the file without it and is refused the health pages."""

from __future__ import annotations

import json

from portal.domain.family_file.service import document_path
from portal.tables import (
    AuditLog,
    ChildFile,
    DocumentType,
    FamilyDocument,
    PendingChange,
    StaffStructure,
)
from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import Office


async def _audited(action: str) -> list[dict[str, object]]:
    rows = await AuditLog.select(AuditLog.after, AuditLog.staff_login).where(
        AuditLog.action == action
    )
    return [
        {"after": json.loads(r["after"]) if isinstance(r["after"], str) else r["after"],
         "login": r["staff_login"]}
        for r in rows
    ]  # fmt: skip


async def test_the_pending_changes_list_is_audited_when_it_shows_health_data(
    agent: Browser, office: Office
) -> None:
    world = office.mine
    base = f"/gestion/s/{world.sid}/dossiers"
    # Nothing pending: the list shows no health data, and nothing is recorded.
    assert (await agent.get(f"{base}?liste=modifications")).status_code == 200
    assert await _audited("file.changes_view") == []

    paolo = world.family.people[0]
    change = PendingChange(
        family=world.family.family.id,
        person=paolo.id,
        changes={"allergies": ["", "Arachide"]},
        status="pending",
    )
    await change.save()
    page = await agent.get(f"{base}?liste=modifications")
    assert "Arachide" in page.text
    [seen] = await _audited("file.changes_view")
    assert seen["login"] == "agent-a"
    assert seen["after"] == {
        "changes": [change.id],
        "families": [world.family.family.id],
    }
    csv = await agent.get(f"{base}?liste=modifications&format=csv")
    assert "Arachide" in csv.content.decode("utf-8-sig")
    [exported] = await _audited("file.changes_export")
    assert exported["after"]["format"] == "csv"  # type: ignore[index]
    # The other lists carry no health data: not recorded as health reads.
    await agent.get(f"{base}?liste=documents")
    assert len(await _audited("file.changes_view")) == 1


async def test_a_member_without_health_access_sees_the_file_without_health_data(
    agent: Browser, office: Office
) -> None:
    world = office.mine
    paolo = world.family.people[0]
    family_id = world.family.family.id
    await ChildFile(person=paolo.id, allergies="Arachide", diet="sans_porc", pai=True).save()
    change = PendingChange(
        family=family_id, person=paolo.id, changes={"allergies": ["Arachide", "Kiwi"]},
        status="pending",
    )  # fmt: skip
    await change.save()
    base = f"/gestion/s/{world.sid}"
    # With the access (the default): the file shows the health fields, and the read is audited.
    page = await agent.get(f"{base}/familles/{family_id}/dossier")
    assert "Arachide" in page.text and "Kiwi" in page.text
    assert len(await _audited("file.health_view")) == 1

    await StaffStructure.update({StaffStructure.health_access: False}).where(
        StaffStructure.staff == office.agent.id
    )
    page = await agent.get(f"{base}/familles/{family_id}/dossier")
    assert page.status_code == 200
    assert "Arachide" not in page.text and "Kiwi" not in page.text and "Sans porc" not in page.text
    assert "réservée aux agents habilités" in page.text
    assert f"/enfants/{paolo.id}/fiche" not in page.text
    assert len(await _audited("file.health_view")) == 1  # nothing shown, nothing to record
    lists = await agent.get(f"{base}/dossiers")
    assert "Modifications en attente" not in lists.text and f"{base}/sante" not in lists.text
    for path in (
        f"{base}/dossiers?liste=modifications",
        f"{base}/dossiers?liste=modifications&format=csv",
        f"{base}/sante",
        f"{base}/familles/{family_id}/enfants/{paolo.id}/fiche",
        f"{base}/familles/{family_id}/enfants/{paolo.id}/modifier",
    ):
        denied = await agent.get(path)
        assert denied.status_code == 403, path
        assert "réservées aux agents habilités" in denied.text
    forged = await agent.submit(
        f"{base}/modifications/{change.id}/decision",
        {"decision": "valider", "famille": str(family_id)},
        page=f"{base}/dossiers",
    )
    assert forged.status_code == 403
    edit = await agent.submit(
        f"{base}/familles/{family_id}/enfants/{paolo.id}/modifier",
        {"allergies": ""},
        page=f"{base}/dossiers",
    )
    assert edit.status_code == 403
    child = await ChildFile.objects().get(ChildFile.person == paolo.id)
    assert child is not None and child.allergies == "Arachide"
    assert (await PendingChange.objects().get(PendingChange.id == change.id)).status == "pending"


async def test_health_documents_are_sealed_to_a_member_without_health_access(
    agent: Browser, office: Office, live: LiveServer
) -> None:
    """A PAI or a medical certificate is health data: without the access, the file and the
    work lists neither link it nor name it with its type, its child or its file (« PAI
    (Paolo) » tells the child's condition): « Document de santé »; its download and its
    decision answer 403; the other documents stay open to the member."""
    world = office.mine
    family_id = world.family.family.id
    base = f"/gestion/s/{world.sid}"
    documents: dict[str, int] = {}
    for code, name, health in (("pai", "PAI", True), ("assurance", "Assurance", False)):
        doc_type = DocumentType(
            structure=world.sid, code=code, name=name, health=health, per_child=True,
            required=True,
        )  # fmt: skip
        await doc_type.save()
        key = f"{code}0000000000000000"
        path = document_path(live.settings.documents_dir, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 " + name.encode())
        document = FamilyDocument(
            family=family_id, person=world.family.people[0].id, document_type=doc_type.id,
            filename=f"{code}-{world.family.people[0].first_name}.pdf",
            content_type="application/pdf", size_bytes=12,
            sha256="0", storage_key=key,
        )  # fmt: skip
        await document.save()
        documents[code] = int(document.id)

    # With the access (the default), both open, named.
    for doc_id in documents.values():
        assert (await agent.get(f"{base}/documents/{doc_id}")).status_code == 200
    child = world.family.people[0].first_name
    assert f"PAI ({child})" in (await agent.get(f"{base}/familles/{family_id}/dossier")).text
    assert "PAI" in (await agent.get(f"{base}/dossiers?liste=documents")).text

    await StaffStructure.update({StaffStructure.health_access: False}).where(
        StaffStructure.staff == office.agent.id
    )
    page = await agent.get(f"{base}/familles/{family_id}/dossier")
    assert f"{base}/documents/{documents['pai']}" not in page.text
    assert f"{base}/documents/{documents['assurance']}" in page.text
    assert "Document de santé" in page.text and "réservé aux agents habilités" in page.text
    assert f"Assurance ({child})" in page.text
    work_list = await agent.get(f"{base}/dossiers?liste=documents")
    assert f"{base}/documents/{documents['pai']}" not in work_list.text
    assert f"{base}/documents/{documents['assurance']}" in work_list.text
    incomplete = await agent.get(f"{base}/dossiers")
    export = await agent.get(f"{base}/dossiers?liste=documents&format=csv")
    assert "Document de santé" in export.content.decode("utf-8-sig")
    for seen in (page.text, work_list.text, incomplete.text, export.content.decode("utf-8-sig")):
        assert "PAI" not in seen and "pai-" not in seen
    assert "Document de santé : en cours de vérification" in incomplete.text

    denied = await agent.get(f"{base}/documents/{documents['pai']}")
    assert denied.status_code == 403 and "réservées aux agents habilités" in denied.text
    assert (await agent.get(f"{base}/documents/{documents['assurance']}")).status_code == 200
    forged = await agent.submit(
        f"{base}/documents/{documents['pai']}/decision",
        {"decision": "valider", "famille": str(family_id), "valable_jusqu": "2099-01-01"},
        page=f"{base}/dossiers",
    )
    assert forged.status_code == 403
    pai = await FamilyDocument.objects().get(FamilyDocument.id == documents["pai"])
    assert pai is not None and pai.status == "pending"
