"""Failure-only login throttling: per (login, address) delays and a high per-address bound."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from portal import clock
from portal.domain.accounts import passwords
from portal.tables import Account, StaffMember
from tests.conftest import Database, SmtpSink, make_settings
from tests.factories import PASSWORD, STAFF_PASSWORD, make_family, make_staff, make_structure
from tests.web.conftest import Browser, LiveServer

# uvicorn trusts X-Forwarded-For from 127.0.0.1 (its default), like behind the proxy.
MOBILE = {"x-forwarded-for": "10.20.30.40"}
ELSEWHERE = {"x-forwarded-for": "192.0.2.7"}


@pytest.fixture
async def strict(db: Database, tmp_path: Path, smtp_server: SmtpSink) -> AsyncIterator[LiveServer]:
    settings = make_settings(
        tmp_path, db.url, PORTAL_LOGIN_FREE_FAILURES=3, PORTAL_LOGIN_MAX_DELAY_SECONDS=60,
        PORTAL_SMTP_HOST=smtp_server.host, PORTAL_SMTP_PORT=smtp_server.port,
    )  # fmt: skip
    async with LiveServer(settings, db) as server:
        yield server


async def _login(browser: Browser, login: str, password: str, headers: dict[str, str]) -> int:
    await browser.get("/connexion", headers=headers)
    response = await browser.post(
        "/connexion",
        data={"identifier": login, "password": password, "_csrf_token": browser.last_csrf or ""},
        headers=headers,
    )
    return response.status_code


# The throttle lives in the store, not the database: one engine is enough for this long one.
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_300_logins_from_one_address_lock_nobody_out(db: Database, live: LiveServer) -> None:
    structure = await make_structure()
    for i in range(30):
        await make_family(login=f"parent{i}", structure=structure)

    async def parent(i: int) -> list[int]:
        async with Browser(base_url=live.url, follow_redirects=False, timeout=60) as browser:
            return [await _login(browser, f"parent{i}", PASSWORD, MOBILE) for _ in range(10)]

    statuses = [s for batch in await asyncio.gather(*(parent(i) for i in range(30))) for s in batch]
    assert statuses == [303] * 300
    # One parent mistyping many times delays only that login, not the others behind the
    # same address.
    async with Browser(base_url=live.url, follow_redirects=False, timeout=60) as clumsy:
        for _ in range(8):
            await _login(clumsy, "parent0", "mauvais", MOBILE)
        assert await _login(clumsy, "parent0", PASSWORD, MOBILE) == 429
    async with Browser(base_url=live.url, follow_redirects=False, timeout=60) as other:
        assert await _login(other, "parent1", PASSWORD, MOBILE) == 303


async def test_delays_are_per_login_and_address_and_say_nothing_of_existence(
    db: Database, strict: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Time stands still (a slow machine must not outlive the 1-second delay), then moves.
    frozen = clock.utcnow()
    offset = [0.0]
    monkeypatch.setattr(clock, "utcnow", lambda: frozen + timedelta(seconds=offset[0]))
    await make_family(login="dupont")
    async with Browser(base_url=strict.url, follow_redirects=False, timeout=30) as attacker:
        for login in ("dupont", "personne"):
            assert [await _login(attacker, login, "mauvais", ELSEWHERE) for _ in range(3)] == [
                401
            ] * 3
        answers: dict[str, tuple[int, str, float]] = {}
        for login in ("dupont", "personne", "dupont", "personne", "dupont", "personne"):
            await attacker.get("/connexion", headers=ELSEWHERE)
            started = time.perf_counter()
            response = await attacker.post(
                "/connexion",
                data={"identifier": login, "password": PASSWORD, "_csrf_token": attacker.last_csrf},
                headers=ELSEWHERE,
            )
            took = time.perf_counter() - started
            best = min(took, answers[login][2]) if login in answers else took
            # CSRF tokens change with every rendering: compare the pages without them.
            page = re.sub(r"[0-9a-f]{96}", "<jeton>", response.text)
            answers[login] = (response.status_code, page, best)
        # A delayed login that exists and one that does not: same status, same page.
        assert answers["dupont"][0] == answers["personne"][0] == 429
        assert answers["dupont"][1].replace("dupont", "personne") == answers["personne"][1]
        assert "réessayez dans 1 seconde" in answers["dupont"][1]
        # The right password waits too (checked neither way), so both are fast alike.
        assert abs(answers["dupont"][2] - answers["personne"][2]) < 0.2
    async with Browser(base_url=strict.url, follow_redirects=False, timeout=30) as family:
        # The family at home is not delayed by what happened elsewhere.
        assert await _login(family, "dupont", PASSWORD, MOBILE) == 303
    offset[0] = 2
    async with Browser(base_url=strict.url, follow_redirects=False, timeout=30) as later:
        assert await _login(later, "dupont", PASSWORD, ELSEWHERE) == 303


async def test_unknown_and_known_logins_cost_the_same(db: Database, live: LiveServer) -> None:
    await make_family(login="dupont")

    async def timed(login: str) -> float:
        async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as browser:
            await browser.get("/connexion")
            best = 10.0
            for _ in range(3):
                started = time.perf_counter()
                response = await browser.post(
                    "/connexion",
                    data={"identifier": login, "password": "mauvais-mot-de-passe",
                          "_csrf_token": browser.last_csrf or ""},
                )  # fmt: skip
                best = min(best, time.perf_counter() - started)
                assert response.status_code == 401
            return best

    known, unknown = await timed("dupont"), await timed("personne")
    # Both verify one argon2 hash; without the dummy hash "unknown" would answer in ~2 ms.
    assert unknown > 0.5 * known, (known, unknown)


async def test_old_hashes_are_upgraded_at_the_next_login(db: Database, browser: Browser) -> None:
    setup = await make_family(login="dupont")
    legacy = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
    await Account.update({Account.password_hash: legacy}).where(Account.id == setup.account.id)
    assert passwords.needs_rehash(legacy)
    assert (await browser.login("dupont", PASSWORD)).status_code == 303
    row = await Account.objects().get(Account.id == setup.account.id)
    assert row is not None and row.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(row.password_hash, PASSWORD)


async def test_staff_hashes_are_upgraded_and_staff_failures_delay(
    db: Database, strict: LiveServer
) -> None:
    member = await make_staff("agent-a")
    legacy = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(STAFF_PASSWORD)
    await StaffMember.update({StaffMember.password_hash: legacy}).where(StaffMember.id == member.id)
    async with Browser(base_url=strict.url, follow_redirects=False, timeout=30) as browser:
        ok = await browser.submit(
            "/gestion/connexion", {"identifier": "agent-a", "password": STAFF_PASSWORD}
        )
        assert ok.status_code == 303
        row = await StaffMember.objects().get(StaffMember.id == member.id)
        assert row is not None and "m=19456,t=2,p=1" in row.password_hash
        statuses = [
            (
                await browser.submit(
                    "/gestion/connexion", {"identifier": "agent-a", "password": "mauvais"}
                )
            ).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]


async def test_hashing_runs_in_bounded_worker_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    loop_thread = threading.get_ident()
    running = 0
    peak = 0
    lock = threading.Lock()
    real = passwords.verify_password

    def watched(stored_hash: str | None, password: str) -> bool:
        nonlocal running, peak
        assert threading.get_ident() != loop_thread
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            return real(stored_hash, password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(passwords, "verify_password", watched)
    monkeypatch.setattr(passwords, "HASH_CONCURRENCY", 2)
    monkeypatch.setattr(passwords, "_executor", None)  # made again with two threads
    stored = passwords.hash_password("Un-Secret-De-Test-2026")
    results = await asyncio.gather(
        *(passwords.verify_password_async(stored, "Un-Secret-De-Test-2026") for _ in range(8))
    )
    assert results == [True] * 8
    assert 1 <= peak <= 2


async def test_hashing_threads_yield_the_cpu_to_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import threading

    if os.uname().sysname != "Linux":
        pytest.skip("thread priorities are set on Linux only")
    monkeypatch.setattr(passwords, "_executor", None)

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    loop_niceness = niceness()
    hashing_niceness = await passwords._off_the_loop(niceness)
    assert hashing_niceness == min(19, loop_niceness + passwords.HASH_NICENESS)
    assert niceness() == loop_niceness  # the event loop's own thread is left as it was
