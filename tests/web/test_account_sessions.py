"""A password change or reset ends the account's other sessions; the profile lists them.

Every test runs with the file store (embedded) and with Redis, on SQLite and PostgreSQL,
with two real browsers against the live server.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis.asyncio as redis_async

from portal import clock
from portal.domain.accounts.service import _token_hash
from portal.domain.staff import families
from portal.tables import AccountFamily, PasswordResetToken
from portal.web.sessions import mark_seen
from tests.conftest import REDIS_URL, Database, SmtpSink, make_settings, require_service
from tests.factories import PASSWORD, STAFF_PASSWORD, actor, make_family, make_staff
from tests.web.conftest import Browser, LiveServer, text
from tests.web.staff.conftest import staff_login

NEW_PASSWORD = "Trois-Pommes-Sous-La-Lune"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


@pytest.fixture(params=["file", "redis"])
async def server(
    request: pytest.FixtureRequest, db: Database, tmp_path: Path, smtp_server: SmtpSink
) -> AsyncIterator[LiveServer]:
    extra: dict[str, str] = {}
    if request.param == "redis":
        require_service("Redis", REDIS_URL, 6379)
        client = redis_async.from_url(REDIS_URL)
        await client.flushdb()
        await client.aclose()
        extra["PORTAL_REDIS_URL"] = REDIS_URL
    settings = make_settings(
        tmp_path, db.url, PORTAL_SMTP_HOST=smtp_server.host, PORTAL_SMTP_PORT=smtp_server.port,
        **extra,
    )  # fmt: skip
    async with LiveServer(settings, db) as live:
        yield live


def _words(page: str) -> str:
    return re.sub(r"<[^>]+>", "", page)


def _browser(server: LiveServer, agent: str) -> Browser:
    return Browser(
        base_url=server.url, follow_redirects=False, timeout=30, headers={"user-agent": agent}
    )


async def test_changing_the_password_ends_the_other_sessions_only(
    db: Database, server: LiveServer
) -> None:
    await make_family(login="dupont")
    async with _browser(server, FIREFOX) as home, _browser(server, IPHONE) as phone:
        assert (await home.login("dupont", PASSWORD)).status_code == 303
        assert (await phone.login("dupont", PASSWORD)).status_code == 303
        listed = text(await home.get("/profil"))
        assert "Firefox sur Linux — cet appareil" in _words(listed)
        assert "Safari sur iPhone" in listed
        old_home_id = home.cookies.get("portal_session")

        changed = await home.submit(
            "/profil/mot-de-passe",
            {"current_password": PASSWORD, "password": NEW_PASSWORD,
             "password_confirm": NEW_PASSWORD},
        )  # fmt: skip
        assert changed.status_code == 303
        after = text(await home.get("/profil"))
        assert "Votre mot de passe a été changé. Vos autres sessions ont été fermées." in after
        assert "Safari sur iPhone" not in after
        # The current session carries over, under a new id.
        assert home.cookies.get("portal_session") != old_home_id
        assert (await home.get("/")).status_code == 200

        gone = await phone.get("/")
        assert gone.status_code == 303 and gone.headers["location"].startswith("/connexion")
        assert (await phone.login("dupont", PASSWORD)).status_code == 401
        assert (await phone.login("dupont", NEW_PASSWORD)).status_code == 303


async def test_a_session_is_ended_from_the_profile(db: Database, server: LiveServer) -> None:
    await make_family(login="dupont")
    async with _browser(server, FIREFOX) as home, _browser(server, IPHONE) as phone:
        await home.login("dupont", PASSWORD)
        await phone.login("dupont", PASSWORD)
        profile = await home.get("/profil")
        [handle] = re.findall(r'action="/profil/sessions/([0-9a-f]+)/deconnecter"', profile.text)
        # The page names sessions by a handle, never by their (secret) id.
        assert (phone.cookies.get("portal_session") or "x") not in profile.text
        ended = await home.submit(f"/profil/sessions/{handle}/deconnecter", {}, page="/profil")
        assert ended.status_code == 303
        assert "La session a été fermée sur cet appareil." in text(await home.get("/profil"))
        assert (await phone.get("/")).status_code == 303
        assert (await home.get("/")).status_code == 200


async def test_a_reset_ends_every_session(db: Database, server: LiveServer) -> None:
    setup = await make_family(login="dupont")
    token = secrets.token_urlsafe(32)
    await PasswordResetToken(
        account=setup.account.id,
        token_hash=_token_hash(token),
        expires_at=clock.utcnow() + timedelta(minutes=30),
    ).save()
    async with _browser(server, FIREFOX) as phone, _browser(server, IPHONE) as other:
        await phone.login("dupont", PASSWORD)
        assert (await phone.get("/")).status_code == 200
        done = await other.submit(
            f"/reinitialiser/{token}", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        )
        assert done.headers["location"] == "/connexion?etat=mot-de-passe-change"
        notice = text(await other.get(done.headers["location"]))
        assert "Vos autres sessions ont été fermées" in notice
        assert (await phone.get("/")).status_code == 303


async def test_staff_reset_of_a_family_account_ends_its_sessions(
    db: Database, server: LiveServer
) -> None:
    setup = await make_family(login="dupont")
    agent = await make_staff("agent-a", setup.structure)
    async with _browser(server, FIREFOX) as phone:
        await phone.login("dupont", PASSWORD)
        assert (await phone.get("/")).status_code == 200
        link = await AccountFamily.objects().get(AccountFamily.account == setup.account.id)
        assert link is not None
        await families.reset_account(
            actor(agent), int(setup.structure.id), int(link.family), int(setup.account.id)
        )
        assert (await phone.get("/")).status_code == 303


async def test_staff_password_change_ends_other_staff_sessions_and_admin_access(
    db: Database, server: LiveServer
) -> None:
    await make_staff("chef", is_admin=True)
    async with _browser(server, FIREFOX) as desk, _browser(server, IPHONE) as laptop:
        for browser in (desk, laptop):
            await staff_login(browser, "chef")  # password, then the administrator's code
        profile = text(await desk.get("/gestion/profil"))
        assert "Safari sur iPhone" in profile and "cet appareil" in profile
        weak = await desk.submit(
            "/gestion/profil/mot-de-passe",
            {"current_password": STAFF_PASSWORD, "password": "azertyuiopqsdfgh",
             "password_confirm": "azertyuiopqsdfgh"},
        )  # fmt: skip
        assert weak.status_code == 400 and "trop facile à deviner" in text(weak)
        changed = await desk.submit(
            "/gestion/profil/mot-de-passe",
            {"current_password": STAFF_PASSWORD, "password": NEW_PASSWORD,
             "password_confirm": NEW_PASSWORD},
        )  # fmt: skip
        assert changed.status_code == 303
        assert "Vos autres sessions ont été fermées." in text(await desk.get("/gestion/profil"))
        assert (await laptop.get("/gestion")).status_code == 303
        assert (await laptop.get("/admin/")).headers["location"].startswith("/gestion/connexion")


async def test_an_unchanged_session_is_not_written_back(db: Database, server: LiveServer) -> None:
    await make_family(login="dupont")
    async with _browser(server, FIREFOX) as home:
        assert (await home.login("dupont", PASSWORD)).status_code == 303
        await home.get("/")
        # Reading pages within the minute changes nothing in the session: no store write,
        # no cookie sent again (seen_at moves once a minute, see web/sessions.py).
        again = await home.get("/profil")
        assert again.status_code == 200
        assert "portal_session" not in again.headers.get("set-cookie", "")
        # The stored session is still the one in use.
        assert "Firefox sur Linux — cet appareil" in _words(text(again))


def test_the_last_activity_moves_once_a_minute() -> None:
    session: dict[str, float] = {"seen_at": 1000.0}
    mark_seen(session, 1059.0)
    assert session["seen_at"] == 1000.0
    mark_seen(session, 1060.0)
    assert session["seen_at"] == 1060.0
