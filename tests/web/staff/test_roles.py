"""Roles per route: every /gestion/s/... handler declares its roles, and each role gets
exactly the pages and actions its set allows (403 otherwise), enumerated from the app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from litestar.routes import HTTPRoute

from portal.domain.staff.roles import (
    ADMINISTRATION,
    LEGACY_ROLES,
    Role,
    allowed,
    format_roles,
)
from portal.tables import LedgerEntry, StaffStructure
from portal.web.staff import ROLES_OPT
from tests.integration.staff.builders import make_staff
from tests.web.conftest import Browser, LiveServer, text
from tests.web.staff.conftest import Office, staff_login

STRUCTURE_PREFIXES = ("/gestion/s/", "/partials/gestion/s/")


def staff_routes(live: LiveServer) -> list[tuple[str, str, frozenset[Role] | None]]:
    """(method, path template, declared roles) of every structure-scoped handler."""
    found = []
    for route in live.app.routes:
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


@pytest.fixture
async def regisseur(live: LiveServer, office: Office) -> AsyncIterator[Browser]:
    await with_roles(office, "regie-a", Role.REGISSEUR)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as client:
        await staff_login(client, "regie-a")
        yield client


async def test_every_structure_route_declares_its_roles(live: LiveServer) -> None:
    routes = staff_routes(live)
    assert len(routes) > 60
    undeclared = [f"{m} {p}" for m, p, roles in routes if not isinstance(roles, frozenset)]
    assert undeclared == []
    for route in live.app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith(("/gestion/comptes", "/gestion/journal")):
            for handler in route.route_handlers:
                if handler.http_methods - {"HEAD", "OPTIONS"}:  # not Litestar's own OPTIONS
                    assert handler.opt.get(ROLES_OPT) == ADMINISTRATION, route.path


async def test_existing_attachments_keep_every_role(office: Office) -> None:
    [row] = await StaffStructure.select(StaffStructure.roles).where(
        StaffStructure.staff == office.agent.id
    )
    assert row["roles"] == LEGACY_ROLES


@pytest.mark.parametrize("role", [Role.AGENT, Role.REGISSEUR, Role.DIRECTION])
async def test_each_role_gets_403_exactly_where_its_set_does_not_reach(
    live: LiveServer, office: Office, role: Role
) -> None:
    login = f"{role.value}-seul"
    await with_roles(office, login, role)
    held = frozenset({role})
    wrong: list[str] = []
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as client:
        await staff_login(client, login)
        await client.get(f"/gestion/s/{office.mine.sid}")
        token = client.last_csrf
        assert token
        for method, path, needed in staff_routes(live):
            assert needed is not None
            url = concrete(path, office.mine.sid)
            if method == "GET":
                response = await client.get(url)
            else:
                response = await client.post(url, data={"_csrf_token": token})
            denied = response.status_code == 403
            if denied != (not allowed(held, needed)):
                wrong.append(f"{method} {url}: {response.status_code}")
            if denied:
                assert "Votre rôle ne permet pas" in text(response)
    assert wrong == []


async def test_an_agent_gets_403_on_money_and_its_menu_hides_it(
    live: LiveServer, office: Office
) -> None:
    await with_roles(office, "agent-seul", Role.AGENT)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as client:
        await staff_login(client, "agent-seul")
        base = f"/gestion/s/{office.mine.sid}"
        board = await client.get(base)
        assert board.status_code == 200
        assert f'href="{base}/reglements"' not in board.text
        assert f'href="{base}/presences"' in board.text
        for url in (f"{base}/reglements", f"{base}/regie", f"{base}/regie/prelevement"):
            assert (await client.get(url)).status_code == 403, url
        assert (await client.get("/gestion/comptes")).status_code == 403


async def test_a_regisseur_records_a_payment_but_not_attendance(
    live: LiveServer, office: Office, regisseur: Browser
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    family = int(office.mine.family.family.id)
    page = f"{base}/reglements?famille={family}"
    form = await regisseur.get(page)
    assert form.status_code == 200
    key = re.search(r'name="cle" value="([^"]+)"', form.text)
    wallet = re.search(r'name="porte_monnaie">\s*<option value="(\d+)"', form.text)
    assert key and wallet
    fields = {
        "cle": key.group(1), "porte_monnaie": wallet.group(1), "mode": "CHEQUE",
        "montant": "12,00", "piece": "0042", "payeur": "DUPONT", "banque": "CIC",
    }  # fmt: skip
    ok = await regisseur.submit(f"{base}/reglements/{family}", fields, page=page)
    assert ok.status_code == 303
    assert await LedgerEntry.count().where(LedgerEntry.payment_mode == "CHEQUE") == 1
    assert (await regisseur.get(f"{base}/presences")).status_code == 403


async def test_roles_apply_per_structure(live: LiveServer, office: Office) -> None:
    """A régisseur here and an agent there: the role follows the structure of the URL."""
    member = await make_staff("double", office.mine.structure, office.theirs.structure)
    await StaffStructure.update({StaffStructure.roles: "regisseur"}).where(
        (StaffStructure.staff == member.id) & (StaffStructure.structure == office.mine.structure.id)
    )
    await StaffStructure.update({StaffStructure.roles: "agent"}).where(
        (StaffStructure.staff == member.id)
        & (StaffStructure.structure == office.theirs.structure.id)
    )
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as client:
        await staff_login(client, "double")
        assert (await client.get(f"/gestion/s/{office.mine.sid}/reglements")).status_code == 200
        assert (await client.get(f"/gestion/s/{office.mine.sid}/presences")).status_code == 403
        assert (await client.get(f"/gestion/s/{office.theirs.sid}/reglements")).status_code == 403
        assert (await client.get(f"/gestion/s/{office.theirs.sid}/presences")).status_code == 200
