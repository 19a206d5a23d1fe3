"""Administrators manage staff accounts in the interface: create (password shown once, to
be replaced), roles per structure, disable (sessions end, login refused)."""

from __future__ import annotations

import re

from portal.domain.staff.roles import Role, parse_roles
from portal.tables import AuditLog, StaffMember, StaffStructure
from portal.web.security import ADMIN_CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY
from tests.web.conftest import Browser, LiveServer, text
from tests.web.staff.conftest import Office, staff_login

NEW_PASSWORD = "Cantine-Soleil-Verte-2027!"


async def _create(admin: Browser, office: Office, login: str) -> str:
    sid = office.mine.sid
    response = await admin.submit(
        "/gestion/comptes/nouveau",
        {"identifiant": login, "nom": "Claire Agent", "role": f"{sid}:agent"},
    )
    assert response.status_code == 200, text(response)
    assert "une seule fois" in text(response)
    found = re.search(r"data-password>([^<]+)<", response.text)
    assert found
    return found.group(1)


async def test_admin_creates_an_account_whose_first_login_changes_the_password(
    live: LiveServer, office: Office
) -> None:
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as admin:
        await staff_login(admin, "admin")
        listing = await admin.get("/gestion/comptes")
        assert listing.status_code == 200
        assert listing.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        raw_tables = await admin.get("/admin/")
        assert raw_tables.status_code == 200
        assert raw_tables.headers["content-security-policy"] == ADMIN_CONTENT_SECURITY_POLICY
        assert "agent-a" in listing.text
        password = await _create(admin, office, "c.agent")
    member = await StaffMember.objects().get(StaffMember.login == "c.agent")
    assert member is not None and member.must_change_password
    [link] = await StaffStructure.select().where(StaffStructure.staff == member.id)
    assert parse_roles(link["roles"]) == {Role.AGENT}
    assert (
        await AuditLog.count().where(
            (AuditLog.action == "staff.create") & (AuditLog.target_id == member.id)
        )
        == 1
    )
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as clerk:
        login = await clerk.submit(
            "/gestion/connexion", {"identifier": "c.agent", "password": password}
        )
        assert login.status_code == 303
        board = await clerk.get(f"/gestion/s/{office.mine.sid}")
        assert board.status_code == 303
        assert board.headers["location"] == "/gestion/profil"
        assert "choisissez-en un nouveau" in text(await clerk.get("/gestion/profil"))
        changed = await clerk.submit(
            "/gestion/profil/mot-de-passe",
            {"current_password": password, "password": NEW_PASSWORD,
             "password_confirm": NEW_PASSWORD},
        )  # fmt: skip
        assert changed.status_code == 303, text(changed)
        assert (await clerk.get(f"/gestion/s/{office.mine.sid}")).status_code == 200
        assert (await clerk.get(f"/gestion/s/{office.mine.sid}/regie")).status_code == 403


async def test_disabling_ends_sessions_and_roles_are_edited(
    live: LiveServer, office: Office
) -> None:
    async with (
        Browser(base_url=live.url, follow_redirects=False, timeout=30) as admin,
        Browser(base_url=live.url, follow_redirects=False, timeout=30) as agent,
    ):
        await staff_login(agent, "agent-a")
        assert (await agent.get(f"/gestion/s/{office.mine.sid}")).status_code == 200
        await staff_login(admin, "admin")
        page = f"/gestion/comptes/{office.agent.id}"
        assert (await admin.get(page)).status_code == 200
        done = await admin.submit(f"{page}/desactiver", {}, page=page)
        assert done.status_code == 303
        assert "ses sessions sont fermées" in text(await admin.get(page))
        gone = await agent.get(f"/gestion/s/{office.mine.sid}")
        assert gone.status_code == 303
        assert gone.headers["location"].startswith("/gestion/connexion")
        refused = await agent.submit(
            "/gestion/connexion", {"identifier": "agent-a", "password": "Agent-Test-2026!"}
        )
        assert refused.status_code == 401
        assert "Ce compte est désactivé" in text(refused)
        again = await admin.submit(f"{page}/reactiver", {}, page=page)
        assert again.status_code == 303
        await staff_login(agent, "agent-a")
    actions = [
        r["action"]
        for r in await AuditLog.select(AuditLog.action)
        .where(AuditLog.target_id == office.agent.id)
        .order_by(AuditLog.id)
    ]
    assert actions == ["staff.disable", "staff.enable"]
    await _edits_roles_and_cannot_demote_or_disable_itself(live, office)


async def _edits_roles_and_cannot_demote_or_disable_itself(
    live: LiveServer, office: Office
) -> None:
    sid = office.mine.sid
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as admin:
        await staff_login(admin, "admin")
        page = f"/gestion/comptes/{office.agent.id}"
        saved = await admin.submit(
            page, {"nom": "Agent renommé", "role": [f"{sid}:regisseur", f"{sid}:direction"]}
        )
        assert saved.status_code == 303
        [link] = await StaffStructure.select().where(StaffStructure.staff == office.agent.id)
        assert parse_roles(link["roles"]) == {Role.REGISSEUR, Role.DIRECTION}
        empty = await admin.submit(page, {"nom": "Agent renommé"})
        assert empty.status_code == 400
        assert "au moins un rôle" in text(empty)
        own = f"/gestion/comptes/{office.admin.id}"
        demoted = await admin.submit(own, {"nom": "Moi", "role": f"{sid}:agent"})
        assert demoted.status_code == 400
        assert "votre propre rôle d'administrateur" in text(demoted)
        disabled = await admin.submit(f"{own}/desactiver", {}, page=own)
        assert "propre compte" in text(await admin.get(disabled.headers["location"]))
        reset = await admin.submit(f"{page}/mot-de-passe", {}, page=page)
        assert reset.status_code == 200
        assert "Nouveau mot de passe initial" in text(reset)
        assert (await admin.get("/gestion/comptes/999999")).status_code == 404
        journal = await admin.get("/gestion/journal?type=personnel")
        assert journal.status_code == 200
        assert "Compte du personnel modifié" in text(journal)
        assert "régisseur, direction" in text(journal)  # roles before -> after, in words
        assert f'href="/gestion/comptes/{office.agent.id}"' in journal.text
        odd = await admin.get(f"/gestion/s/{sid}/journal?du=2020-01-01&type=x&personne=a&page=-3")
        assert odd.status_code == 200
        assert "Aucune entrée" in text(odd)  # account changes belong to no structure
    member = await StaffMember.objects().get(StaffMember.id == office.admin.id)
    assert member is not None and member.is_admin and member.disabled_at is None
