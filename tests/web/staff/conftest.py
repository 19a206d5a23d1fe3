"""Two structures, an agent of the first, and a logged-in back-office browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from portal.tables import StaffMember
from tests.conftest import Database
from tests.factories import (
    STAFF_PASSWORD,
    World,
    make_staff,
    make_world,
    next_totp_code,
)
from tests.web.conftest import Browser, LiveServer


@dataclass
class Office:
    mine: World
    theirs: World
    agent: StaffMember
    other_agent: StaffMember
    admin: StaffMember


@pytest.fixture
async def office(db: Database) -> Office:
    mine = await make_world("Mairie de Testville", prefix="a")
    theirs = await make_world("Mairie de Loinville", prefix="b")
    return Office(
        mine,
        theirs,
        await make_staff("agent-a", mine.structure),
        await make_staff("agent-b", theirs.structure),
        await make_staff("admin", is_admin=True),
    )


async def staff_login(browser: Browser, login: str) -> None:
    response = await browser.submit(
        "/gestion/connexion", {"identifier": login, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 303, response.text
    if response.headers["location"] == "/gestion/connexion/code":
        await pass_second_factor(browser, login)


async def pass_second_factor(browser: Browser, login: str) -> str:
    """Submit the code step of a staff login with TOTP; returns where it sends next."""
    member = await StaffMember.objects().get(StaffMember.login == login)
    assert member is not None
    code = await next_totp_code(int(member.id))
    response = await browser.submit("/gestion/connexion/code", {"code": code})
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


@pytest.fixture
async def agent(live: LiveServer, office: Office) -> AsyncIterator[Browser]:
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as client:
        await staff_login(client, "agent-a")
        yield client


async def decide_change(
    agent: Browser, world: World, change_id: int, decision: str = "valider"
) -> httpx.Response:
    """A staff decision on a parent's pending change to the child file, as the list posts it."""
    base = f"/gestion/s/{world.sid}"
    return await agent.submit(
        f"{base}/modifications/{change_id}/decision",
        {"decision": decision, "famille": str(world.family.family.id)},
        page=f"{base}/dossiers",
    )
