"""Holes an access-control audit found, each closed: a shared parent account reset from
one structure, health data on the kitchen sheet and in sick-child absences for members
without health access, a health document's type in the journal, /admin/ before the
initial password is replaced, and a read-only member marking families' messages read."""

from __future__ import annotations

from portal.domain.family_file.service import document_path
from portal.domain.kitchen import service as kitchen
from portal.domain.staff.roles import Role, format_roles
from portal.tables import (
    AbsenceDeclaration,
    Account,
    AccountFamily,
    AuditLog,
    ChildFile,
    DocumentType,
    FamilyDocument,
    Message,
    StaffMember,
    StaffStructure,
)
from tests.factories import make_staff
from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import Office, staff_login


async def _without_health(member: StaffMember) -> None:
    await StaffStructure.update({StaffStructure.health_access: False}).where(
        StaffStructure.staff == member.id
    )


async def test_an_account_shared_with_another_structure_is_reset_by_an_administrator_only(
    agent: Browser, office: Office, live: LiveServer
) -> None:
    """Its new password would open the other structure's family to whoever reads it."""
    mine, theirs = office.mine, office.theirs
    shared = int(mine.family.account.id)
    await AccountFamily(account=shared, family=theirs.family.family.id).save()
    before = await Account.objects().get(Account.id == shared)
    assert before is not None
    base = f"/gestion/s/{mine.sid}/familles/{mine.family.family.id}"
    page = await agent.get(base)
    assert "seul un administrateur du portail peut lui donner" in page.text
    assert f"/comptes/{shared}/reinitialiser" not in page.text
    refused = await agent.submit(f"{base}/comptes/{shared}/reinitialiser", {}, page=base)
    assert refused.status_code == 403 and "administrateur" in refused.text
    after = await Account.objects().get(Account.id == shared)
    assert after is not None and after.password_hash == before.password_hash
    # An account of this structure alone is still reset by the agent.
    own = int(mine.other.account.id)
    other_base = f"/gestion/s/{mine.sid}/familles/{mine.other.family.id}"
    done = await agent.submit(f"{other_base}/comptes/{own}/reinitialiser", {}, page=other_base)
    assert done.status_code == 200 and "Nouveau mot de passe initial" in done.text


async def test_the_kitchen_names_children_to_members_with_health_access_only(
    agent: Browser, office: Office
) -> None:
    world = office.mine
    paolo = world.family.people[0]
    await ChildFile(person=paolo.id, allergies="Arachide-cuisine", pai=True).save()
    page = f"/gestion/s/{world.sid}/cuisine?jour={world.full_day.day}"
    named = await agent.get(page)
    assert "Arachide-cuisine" in named.text
    [read] = await AuditLog.objects().where(AuditLog.action == "kitchen.health_view")
    assert read.staff_login == "agent-a"
    await _without_health(office.agent)
    sealed = await agent.get(page)
    assert sealed.status_code == 200
    assert "Arachide-cuisine" not in sealed.text and paolo.first_name not in sealed.text
    assert "Dont allergies signalées" in sealed.text  # the counts stay
    assert 'name="adresse"' in named.text and 'name="adresse"' not in sealed.text
    assert "réservée aux agents habilités" in sealed.text
    assert await AuditLog.count().where(AuditLog.action == "kitchen.health_view") == 1
    # Nor can such a member send the named sheet to an address of their choosing.
    redirected = await agent.submit(
        f"/gestion/s/{world.sid}/cuisine/adresse", {"adresse": "moi@example.fr"}, page=page
    )
    assert redirected.status_code == 403
    assert (await kitchen.settings_of(world.sid)).kitchen_email == ""


async def test_sick_child_notes_and_certificates_need_health_access(
    agent: Browser, office: Office, live: LiveServer
) -> None:
    world = office.mine
    key = "absence00000000000000"
    path = document_path(live.settings.documents_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 certificat")
    declaration = AbsenceDeclaration(
        family=world.family.family.id, reservation=world.accepted[0].id,
        person=world.family.people[0].id, note="gastro", certificate_key=key,
        certificate_name="certificat-gastro.pdf", certificate_type="application/pdf",
        certificate_size=19, status="declared",
    )  # fmt: skip
    await declaration.save()
    decisions = f"/gestion/s/{world.sid}/decisions"
    certificate = f"/gestion/s/{world.sid}/absences/{declaration.id}/justificatif"
    shown = await agent.get(decisions)
    assert "gastro" in shown.text and certificate in shown.text
    assert (await agent.get(certificate)).status_code == 200
    assert await AuditLog.count().where(AuditLog.action == "absence.certificate_view") == 1
    await _without_health(office.agent)
    sealed = await agent.get(decisions)
    assert "gastro" not in sealed.text and certificate not in sealed.text
    assert "Justificatif joint" in sealed.text and "Motif indiqué par la famille" in sealed.text
    denied = await agent.get(certificate)
    assert denied.status_code == 403 and "réservées aux agents habilités" in denied.text


async def test_the_journal_does_not_name_a_health_document_to_members_without_access(
    agent: Browser, office: Office, live: LiveServer
) -> None:
    world = office.mine
    pai = DocumentType(structure=world.sid, code="pai", name="PAI-journal", health=True)
    await pai.save()
    key = "paijournal0000000000"
    path = document_path(live.settings.documents_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 pai")
    document = FamilyDocument(
        family=world.family.family.id, person=world.family.people[0].id,
        document_type=pai.id, filename="pai.pdf", content_type="application/pdf",
        size_bytes=12, sha256="0", storage_key=key,
    )  # fmt: skip
    await document.save()
    assert (await agent.get(f"/gestion/s/{world.sid}/documents/{document.id}")).status_code == 200
    refused = await agent.submit(
        f"/gestion/s/{world.sid}/documents/{document.id}/decision",
        {"decision": "refuser", "motif": "Signature-allergologue",
         "famille": str(world.family.family.id)},
        page=f"/gestion/s/{world.sid}/dossiers",
    )  # fmt: skip
    assert refused.status_code == 303
    journal = f"/gestion/s/{world.sid}/journal"
    shown = (await agent.get(journal)).text
    assert "PAI-journal" in shown and "Signature-allergologue" in shown
    await _without_health(office.agent)
    sealed = await agent.get(journal)
    assert "Document consulté" in sealed.text and "PAI-journal" not in sealed.text
    assert "Signature-allergologue" not in sealed.text
    assert "donnée de santé masquée" in sealed.text


async def test_admin_waits_for_the_initial_password_to_be_replaced(
    live: LiveServer, office: Office
) -> None:
    await StaffMember.update({StaffMember.must_change_password: True}).where(
        StaffMember.id == office.admin.id
    )
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as admin:
        await staff_login(admin, "admin")
        for path in ("/admin/", "/admin/api/tables/"):
            response = await admin.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/gestion/profil"


async def test_a_read_only_member_leaves_the_family_s_messages_unread(
    live: LiveServer, office: Office
) -> None:
    world = office.mine
    reader = await make_staff("lecture")
    await StaffStructure(
        staff=reader.id, structure=world.structure.id, roles=format_roles({Role.DIRECTION})
    ).save()
    message = Message(
        structure=world.sid, family=world.family.family.id, from_family=True,
        account=world.family.account.id, author_name="Jean", body="Bonjour",
    )  # fmt: skip
    await message.save()
    thread = f"/gestion/s/{world.sid}/messages/familles/{world.family.family.id}"
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
        await staff_login(browser, "lecture")
        shown = await browser.get(thread)
        assert shown.status_code == 200 and "Bonjour" in shown.text
    unread = await Message.objects().get(Message.id == message.id)
    assert unread is not None and unread.read_at is None


async def test_the_booking_desk_does_not_name_missing_health_documents_without_access(
    agent: Browser, office: Office
) -> None:
    """The family's scope is shared with its parents (who read « PAI (Paolo) : à
    fournir »); a clerk without health access books for it reading « Document de santé »."""
    from tests.factories import add_file_rules

    world = office.mine
    await add_file_rules(world.structure, fields=())
    await DocumentType(
        structure=world.sid, code="certificat", name="PAI-guichet", health=True,
        per_child=True, required=True,
    ).save()  # fmt: skip
    desk = f"/gestion/s/{world.sid}/familles/{world.family.family.id}/reservations"
    named = await agent.get(desk)
    assert "Il manque" in named.text and "PAI-guichet" in named.text
    await _without_health(office.agent)
    sealed = await agent.get(desk)
    assert "Il manque" in sealed.text and "PAI-guichet" not in sealed.text
    assert "Document de santé : à fournir" in sealed.text


async def test_the_journal_links_only_to_pages_the_reader_can_open(
    live: LiveServer, office: Office
) -> None:
    """A régisseur reads the journal but not the families' files; an agent not the
    payments: the entries name them without a link that would answer 403."""
    from portal.db import write_transaction
    from portal.domain.staff import audit
    from tests.factories import actor

    world = office.mine
    cashier = await make_staff("caisse")
    await StaffStructure(
        staff=cashier.id, structure=world.structure.id, roles=format_roles({Role.REGISSEUR})
    ).save()
    clerk = await make_staff("guichet")
    await StaffStructure(
        staff=clerk.id, structure=world.structure.id, roles=format_roles({Role.AGENT})
    ).save()
    child = world.family.people[0].id
    async with write_transaction():
        await audit.record(
            actor(office.agent), "file.child_edit", structure_id=world.sid, table="child_file",
            target_id=child, after={"school": "Jules Ferry"},
        )  # fmt: skip
        await audit.record(
            actor(cashier), "reminder.settings", structure_id=world.sid,
            table="reminder_settings", target_id=1, after={"days": 15},
        )  # fmt: skip
    file_link = f"/gestion/s/{world.sid}/familles/{world.family.family.id}/dossier"
    reminders_link = f"/gestion/s/{world.sid}/regie/relances"
    for login, sees, misses in (
        ("caisse", reminders_link, file_link),
        ("guichet", file_link, reminders_link),
    ):
        async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
            await staff_login(browser, login)
            page = (await browser.get(f"/gestion/s/{world.sid}/journal")).text
            assert f'href="{sees}"' in page, login
            assert f'href="{misses}"' not in page, login
