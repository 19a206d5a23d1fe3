"""Staff TOTP: required for administrators and /admin/, optional for agents; recovery codes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pyotp
import pytest

from portal import clock
from portal.demo import load_demo
from portal.domain.staff import mfa
from portal.tables import StaffMember, StaffRecoveryCode, StaffTotp
from tests.conftest import Database, SmtpSink, make_settings
from tests.factories import STAFF_PASSWORD, make_staff, next_totp_code
from tests.web.conftest import Browser, LiveServer, text
from tests.web.staff.conftest import pass_second_factor

MFA_URL = "/gestion/profil/double-authentification"


async def _password(browser: Browser, login: str, password: str = STAFF_PASSWORD) -> str:
    response = await browser.submit(
        "/gestion/connexion", {"identifier": login, "password": password}
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


async def _new_admin(login: str = "chef") -> StaffMember:
    member = StaffMember(
        login=login,
        password_hash=(await make_staff(f"{login}-tmp")).password_hash,
        display_name="Chef",
        is_admin=True,
    )
    await member.save()
    return member


async def test_an_administrator_must_enrol_before_anything_else(
    db: Database, browser: Browser
) -> None:
    member = await _new_admin()
    assert await _password(browser, "chef") == "/gestion"
    for path in ("/gestion", "/admin/"):
        blocked = await browser.get(path)
        assert blocked.headers["location"] == MFA_URL, path
    page = await browser.get(MFA_URL)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'src="data:image/svg+xml' in page.text
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret
    wrong = await browser.submit(f"{MFA_URL}/activer", {"code": "000000"}, page=MFA_URL)
    assert wrong.status_code == 400 and "Code incorrect" in text(wrong)
    code = pyotp.TOTP(secret.group(1)).at(clock.utcnow())
    done = await browser.submit(f"{MFA_URL}/activer", {"code": code}, page=MFA_URL)
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.text)
    assert len(codes) == 10
    assert "ne seront plus jamais affichés" in text(done)
    # Stored hashed only, and never shown again.
    stored = await StaffRecoveryCode.select(StaffRecoveryCode.code_hash)
    assert {r["code_hash"] for r in stored}.isdisjoint(codes)
    assert not set(codes) & set(
        re.findall(r"[a-z2-9]{5}-[a-z2-9]{5}", (await browser.get(MFA_URL)).text)
    )
    assert (await browser.get("/admin/")).status_code == 200
    assert (await browser.get("/gestion")).status_code in (200, 303)
    assert await mfa.is_enrolled(int(member.id))


async def test_login_asks_the_code_and_accepts_each_code_once(
    db: Database, live: LiveServer
) -> None:
    admin = await make_staff("admin", is_admin=True)
    totp_row = await StaffTotp.objects().get(StaffTotp.staff == admin.id)
    assert totp_row is not None
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as first:
        assert await _password(first, "admin") == "/gestion/connexion/code"
        # Not logged in yet: the back office and /admin/ still send to the login.
        assert (await first.get("/gestion")).headers["location"] == "/gestion/connexion"
        assert (await first.get("/admin/")).headers["location"].startswith("/gestion/connexion")
        wrong = await first.submit("/gestion/connexion/code", {"code": "123456"})
        assert wrong.status_code == 401 and "Code incorrect ou déjà utilisé." in text(wrong)
        code = pyotp.TOTP(str(totp_row.secret)).at(clock.utcnow())
        ok = await first.submit("/gestion/connexion/code", {"code": code})
        assert ok.status_code == 303
        assert (await first.get("/admin/")).status_code == 200
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as replay:
        await _password(replay, "admin")
        again = await replay.submit("/gestion/connexion/code", {"code": code})
        assert again.status_code == 401  # the same code never opens a second session


async def test_recovery_codes_work_once(db: Database, browser: Browser) -> None:
    member = await _new_admin()
    enrolment = await mfa.pending_enrolment(member)
    assert enrolment is not None
    codes = await mfa.confirm_enrolment(
        int(member.id), pyotp.TOTP(enrolment.secret).at(clock.utcnow())
    )
    assert codes and len(codes) == 10
    await _password(browser, "chef")
    used = await browser.submit("/gestion/connexion/code", {"code": codes[0].upper()})
    assert used.status_code == 303
    await browser.submit("/gestion/deconnexion", {}, page="/gestion/profil")
    await _password(browser, "chef")
    reused = await browser.submit("/gestion/connexion/code", {"code": codes[0]})
    assert reused.status_code == 401
    assert (await mfa.second_factor(int(member.id))).recovery_codes_left == 9
    # New codes replace the old ones, after a valid code from the phone.
    assert (await browser.submit("/gestion/connexion/code", {"code": codes[1]})).status_code == 303
    renewed = await browser.submit(
        f"{MFA_URL}/codes-de-secours", {"code": await next_totp_code(int(member.id))}, page=MFA_URL
    )
    fresh = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", renewed.text)
    assert renewed.status_code == 200 and len(fresh) == 10 and not set(fresh) & set(codes)
    await browser.submit("/gestion/deconnexion", {}, page="/gestion/profil")
    await _password(browser, "chef")
    assert (await browser.submit("/gestion/connexion/code", {"code": codes[2]})).status_code == 401
    assert (await browser.submit("/gestion/connexion/code", {"code": fresh[0]})).status_code == 303


async def test_agents_may_enrol_and_then_need_the_code(db: Database, live: LiveServer) -> None:
    await make_staff("agent-a")
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as agent:
        assert await _password(agent, "agent-a") == "/gestion"
        profile = text(await agent.get("/gestion/profil"))
        assert "Non activée (facultative pour les agents)." in profile
        page = await agent.get(MFA_URL)
        secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', page.text)
        assert secret
        code = pyotp.TOTP(secret.group(1)).at(clock.utcnow())
        assert (await agent.submit(f"{MFA_URL}/activer", {"code": code})).status_code == 200
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as later:
        assert await _password(later, "agent-a") == "/gestion/connexion/code"
        assert await pass_second_factor(later, "agent-a") == "/gestion"
        member = await StaffMember.objects().get(StaffMember.login == "agent-a")
        assert member is not None
        clock.shift(60)
        off = await later.submit(
            f"{MFA_URL}/desactiver",
            {"code": pyotp.TOTP(secret.group(1)).at(clock.utcnow())},
            page=MFA_URL,
        )
        assert off.status_code == 303
        assert not await mfa.is_enrolled(int(member.id))


async def test_code_failures_are_throttled(db: Database, live: LiveServer) -> None:
    await make_staff("admin", is_admin=True)
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as guesser:
        await _password(guesser, "admin")
        statuses = [
            (await guesser.submit("/gestion/connexion/code", {"code": f"00000{i}"})).status_code
            for i in range(6)
        ]
        assert statuses == [401] * 5 + [429]


@pytest.fixture
async def demo_live(
    db: Database, tmp_path: Path, smtp_server: SmtpSink
) -> AsyncIterator[LiveServer]:
    settings = make_settings(
        tmp_path, db.url, PORTAL_DEMO="1",
        PORTAL_SMTP_HOST=smtp_server.host, PORTAL_SMTP_PORT=smtp_server.port,
    )  # fmt: skip
    async with LiveServer(settings, db) as server:
        yield server


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_the_demo_admin_logs_in_with_the_code_shown_in_demo_mode(
    db: Database, demo_live: LiveServer
) -> None:
    await load_demo()
    async with Browser(base_url=demo_live.url, follow_redirects=False, timeout=30) as browser:
        listed = text(await browser.get("/connexion"))
        assert "Demo-Admin-2026-!" in listed
        assert await _password(browser, "admin", "Demo-Admin-2026-!") == "/gestion/connexion/code"
        page = text(await browser.get("/gestion/connexion/code"))
        shown = re.search(r"le code actuel est (\d{6})", re.sub(r"<[^>]+>", "", page))
        assert shown
        done = await browser.submit("/gestion/connexion/code", {"code": shown.group(1)})
        assert done.status_code == 303
        assert (await browser.get("/admin/")).status_code == 200
