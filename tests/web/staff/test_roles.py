"""Roles per route: every /gestion/s/... handler declares its roles, and each role gets
exactly the pages and actions its set allows (403 otherwise), enumerated from the app."""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Litestar
from litestar.routes import HTTPRoute

from portal.app import create_app
from portal.domain.staff.roles import ADMINISTRATION, LEGACY_ROLES, Role, allowed, format_roles
from portal.tables import LedgerEntry, StaffStructure
from portal.web.staff import ROLES_OPT
from tests.conftest import make_settings
from tests.factories import make_staff
from tests.web.conftest import Browser, LiveServer, text
from tests.web.staff.conftest import Office, staff_login

STRUCTURE_PREFIXES = ("/gestion/s/", "/partials/gestion/s/")
ADMIN_PREFIXES = ("/gestion/comptes", "/gestion/journal")


def staff_routes(app: Litestar) -> list[tuple[str, str, frozenset[Role] | None]]:
    """(method, path template, declared roles) of every structure-scoped handler."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(STRUCTURE_PREFIXES):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((method, route.path, handler.opt.get(ROLES_OPT)))
    return found


def concrete(path: str, sid: int) -> str:
    """The structure's id for {sid}, an id that exists nowhere for the others."""
    path = path.replace("{sid:int}", str(sid))
    path = re.sub(r"\{\w+:int\}", "999999", path)
    return re.sub(r"\{\w+:\w+\}", "x", path)


async def with_roles(office: Office, login: str, *roles: Role) -> None:
    member = await make_staff(login, office.mine.structure)
    await StaffStructure.update({StaffStructure.roles: format_roles(roles)}).where(
        StaffStructure.staff == member.id
    )


def test_every_staff_route_declares_its_roles(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'p.sqlite3'}"))
    routes = staff_routes(app)
    assert len(routes) > 60
    undeclared = [f"{m} {p}" for m, p, roles in routes if not isinstance(roles, frozenset)]
    assert undeclared == []
    admin_only = 0
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith(ADMIN_PREFIXES):
            for handler in route.route_handlers:
                if handler.http_methods - {"HEAD", "OPTIONS"}:  # not Litestar's own OPTIONS
                    assert handler.opt.get(ROLES_OPT) == ADMINISTRATION, route.path
                    admin_only += 1
    assert admin_only >= 8


async def _sweep(live: LiveServer, office: Office, role: Role) -> list[str]:
    """Every structure route as a member holding only `role`: 403 exactly when denied."""
    login = f"{role.value}-seul"
    await with_roles(office, login, role)
    held = frozenset({role})
    wrong: list[str] = []
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as client:
        await staff_login(client, login)
        await client.get(f"/gestion/s/{office.mine.sid}")
        token = client.last_csrf
        assert token
        for method, path, needed in staff_routes(live.app):
            assert needed is not None
            url = concrete(path, office.mine.sid)
            if method == "GET":
                response = await client.get(url)
            else:
                response = await client.post(url, data={"_csrf_token": token})
            denied = response.status_code == 403
            if denied != (not allowed(held, needed)):
                wrong.append(f"{role.value}: {method} {url}: {response.status_code}")
            elif denied and "Votre rôle ne permet pas" not in text(response):
                wrong.append(f"{role.value}: {method} {url}: 403 sans explication")
    return wrong


async def test_each_role_gets_403_exactly_where_its_set_does_not_reach(
    live: LiveServer, office: Office
) -> None:
    [row] = await StaffStructure.select(StaffStructure.roles).where(
        StaffStructure.staff == office.agent.id
    )
    assert row["roles"] == LEGACY_ROLES  # attachments made before roles keep every role
    wrong: list[str] = []
    for role in (Role.AGENT, Role.REGISSEUR, Role.DIRECTION):
        wrong += await _sweep(live, office, role)
    assert wrong == []

    base = f"/gestion/s/{office.mine.sid}"
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as client:
        await staff_login(client, "agent-seul")
        board = await client.get(base)
        assert board.status_code == 200
        assert f'href="{base}/reglements"' not in board.text  # the menu hides money
        assert f'href="{base}/presences"' in board.text
        assert f'href="{base}/journal"' in board.text
        assert (await client.get(f"{base}/regie")).status_code == 403
        family = await client.get(f"{base}/familles/{office.mine.family.family.id}")
        assert "Enregistrer un règlement" not in family.text
        assert "Lancer la transmission" in (await client.get(f"{base}/transmission")).text
        assert (await client.get("/gestion/comptes")).status_code == 403
        assert (await client.get("/gestion/journal")).status_code == 403


async def test_a_regisseur_records_a_payment_and_roles_follow_the_structure(
    live: LiveServer, office: Office
) -> None:
    member = await make_staff("double", office.mine.structure, office.theirs.structure)
    await StaffStructure.update({StaffStructure.roles: "regisseur"}).where(
        (StaffStructure.staff == member.id) & (StaffStructure.structure == office.mine.structure.id)
    )
    await StaffStructure.update({StaffStructure.roles: "agent"}).where(
        (StaffStructure.staff == member.id)
        & (StaffStructure.structure == office.theirs.structure.id)
    )
    base = f"/gestion/s/{office.mine.sid}"
    family = int(office.mine.family.family.id)
    page = f"{base}/reglements?famille={family}"
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as client:
        await staff_login(client, "double")
        form = await client.get(page)
        assert form.status_code == 200
        key = re.search(r'name="cle" value="([^"]+)"', form.text)
        wallet = re.search(r'name="porte_monnaie">\s*<option value="(\d+)"', form.text)
        assert key and wallet
        fields = {
            "cle": key.group(1), "porte_monnaie": wallet.group(1), "mode": "CHEQUE",
            "montant": "12,00", "piece": "0042", "payeur": "DUPONT", "banque": "CIC",
        }  # fmt: skip
        ok = await client.submit(f"{base}/reglements/{family}", fields, page=page)
        assert ok.status_code == 303
        assert await LedgerEntry.count().where(LedgerEntry.payment_mode == "CHEQUE") == 1
        # Pages offer only the actions the role can do.
        transmission = await client.get(f"{base}/transmission")
        assert "Lancer la transmission" not in transmission.text
        assert "Enregistrer un règlement" in (await client.get(f"{base}/familles/{family}")).text
        # A régisseur here, an agent there: the role follows the structure of the URL.
        assert (await client.get(f"{base}/presences")).status_code == 403
        theirs = f"/gestion/s/{office.theirs.sid}"
        assert (await client.get(f"{theirs}/reglements")).status_code == 403
        assert (await client.get(f"{theirs}/presences")).status_code == 200
