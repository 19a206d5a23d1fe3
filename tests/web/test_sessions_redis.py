"""Sessions and login throttling with the Redis store (as in a scaled deployment)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis_async
from litestar import Litestar
from litestar.connection import ASGIConnection
from redis import exceptions as redis_exceptions

from portal.web.redis_store import DeadlineRedisStore
from portal.web.sessions import PortalSessionConfig, RotatingSessionBackend
from tests.conftest import REDIS_URL, Database, SmtpSink, make_settings, require_service
from tests.factories import PASSWORD, make_family
from tests.web.conftest import Browser, LiveServer


@pytest.fixture
async def redis_browser(
    db: Database, tmp_path: Path, smtp_server: SmtpSink
) -> AsyncIterator[Browser]:
    require_service("Redis", REDIS_URL, 6379)
    client = redis_async.from_url(REDIS_URL)
    await client.flushdb()
    settings = make_settings(
        tmp_path, db.url, PORTAL_REDIS_URL=REDIS_URL,
        PORTAL_SMTP_HOST=smtp_server.host, PORTAL_SMTP_PORT=smtp_server.port,
        # A low per-address bound, to reach it in a test (the default is 300).
        PORTAL_LOGIN_ADDRESS_MAX_FAILURES=30,
    )  # fmt: skip
    async with LiveServer(settings, db) as server:
        async with Browser(base_url=server.url, follow_redirects=False, timeout=30) as browser:
            yield browser
    await client.flushdb()
    await client.aclose()


async def test_sessions_live_in_redis_and_die_at_logout(
    db: Database, redis_browser: Browser
) -> None:
    await make_family(login="dupont")
    assert (await redis_browser.login("dupont", PASSWORD)).status_code == 303
    client = redis_async.from_url(REDIS_URL)
    session_id = redis_browser.cookies.get("portal_session")
    keys = [k.decode() for k in await client.keys("*")]
    assert any(session_id and session_id in key for key in keys), keys
    assert (await redis_browser.get("/")).status_code == 200
    await redis_browser.submit("/deconnexion", {}, page="/")
    keys_after = [k.decode() for k in await client.keys("*")]
    assert not any(session_id and session_id in key for key in keys_after)
    await client.aclose()


async def test_login_throttling_per_address(db: Database, redis_browser: Browser) -> None:
    await make_family(login="dupont")
    statuses = [(await redis_browser.login(f"inconnu{i}", "x")).status_code for i in range(31)]
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429
    blocked = await redis_browser.login("dupont", PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives" in blocked.text


async def test_redis_down_is_a_clear_503_not_a_500(
    db: Database, tmp_path: Path, smtp_server: SmtpSink
) -> None:
    health = await _login_page_unavailable(
        db, tmp_path, smtp_server, "redis://127.0.0.1:1/0", then="/healthz"
    )
    assert health is not None and health.status_code == 503
    assert health.json()["redis"]["status"] == "erreur"


async def _login_page_unavailable(
    db: Database, tmp_path: Path, smtp_server: SmtpSink, redis_url: str, then: str | None = None
) -> httpx.Response | None:
    """The login page through a live server whose Redis is `redis_url`: a French 503 with
    its retry-after; then `then` is fetched and returned."""
    settings = make_settings(
        tmp_path, db.url, PORTAL_REDIS_URL=redis_url,
        PORTAL_SMTP_HOST=smtp_server.host, PORTAL_SMTP_PORT=smtp_server.port,
    )  # fmt: skip
    async with LiveServer(settings, db) as server:
        async with Browser(base_url=server.url, follow_redirects=False, timeout=30) as browser:
            page = await browser.get("/connexion", headers={"accept": "text/html"})
            assert page.status_code == 503
            assert "momentanément indisponible" in page.text
            assert page.headers["retry-after"] == "30"
            return await browser.get(then) if then else None


@pytest.mark.parametrize("ended_elsewhere", [False, True])
async def test_a_changed_session_is_written_only_while_it_exists(ended_elsewhere: bool) -> None:
    """The race the write guards against: the session is ended on another device (its key
    deleted) while a request that changed it is running; that request must not write it
    back to life (one SET ... XX on Redis)."""
    require_service("Redis", REDIS_URL, 6379)
    store = DeadlineRedisStore.connect(REDIS_URL, namespace="portal-test-race")
    config = PortalSessionConfig(key="portal_session", max_age=600, store="sessions")
    backend = RotatingSessionBackend(config=config)
    app = Litestar(stores={"sessions": store})
    scope: Any = {
        "type": "http", "app": app, "state": {}, "path": "/", "method": "POST",
        "headers": [(b"cookie", b"portal_session=race")],
    }  # fmt: skip
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    await store.set("race", backend.serialize_data({"account_id": 1}), expires_in=600)
    try:
        session = await backend.load_from_connection(connection)
        if ended_elsewhere:
            await store.delete("race")
        message: Any = {"type": "http.response.start", "status": 200, "headers": []}
        await backend.store_in_message({**session, "basket": "[]"}, message, connection)
        cookie = dict(message["headers"])[b"set-cookie"].decode()
        stored = await store.get("race")
        if ended_elsewhere:
            assert stored is None and cookie.startswith("portal_session=null")
        else:
            assert stored is not None and backend.deserialize_data(stored)["basket"] == "[]"
            assert cookie.startswith("portal_session=race")
    finally:
        await store.delete("race")
        await store._redis.aclose(close_connection_pool=True)


class _SilentRedis:
    """A server that accepts connections and reads commands but never answers: a Redis
    that hangs (stopped, swapped out), not one that refuses."""

    def __init__(self) -> None:
        self.received = 0

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/0"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            self.received += 1
        writer.close()

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()


async def test_a_redis_that_hangs_fails_each_call_within_the_deadline() -> None:
    async with _SilentRedis() as url:
        store = DeadlineRedisStore.connect(url, namespace="portal").with_namespace("sessions")
        store.deadline_seconds = 0.3
        started = time.monotonic()
        with pytest.raises(redis_exceptions.TimeoutError):
            await store.get("some-session")
        with pytest.raises(redis_exceptions.TimeoutError):
            await store.replace("some-session", b"{}", 60)
        assert time.monotonic() - started < 2
        await store._redis.aclose(close_connection_pool=True)


async def test_a_redis_that_hangs_is_a_clear_503(
    db: Database, tmp_path: Path, smtp_server: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DeadlineRedisStore, "deadline_seconds", 0.5)
    async with _SilentRedis() as url:
        await _login_page_unavailable(db, tmp_path, smtp_server, url)


async def test_visitors_without_a_session_write_nothing_to_the_store(
    db: Database, redis_browser: Browser
) -> None:
    """A crawler or a cookie-less client asking for public pages (and the login form) used to
    leave an empty session in the store for each request, for the session's whole lifetime.
    Only the login writes one; the anonymous CSRF binding is a cookie."""
    await make_family(login="dupont")
    client = redis_async.from_url(REDIS_URL)
    for path in ("/mentions", "/accessibilite", "/connexion", "/mot-de-passe-oublie"):
        redis_browser.cookies.clear()
        answer = await redis_browser.get(path)
        assert answer.status_code == 200, path
        assert "portal_session" not in answer.cookies, path
        assert answer.cookies.get("portal_csrf"), path
    assert [k for k in await client.keys("portal_sessions:*")] == []
    # Nor a code typed without a pending staff login (its « délai dépassé » message lives in
    # the lapsed login's session, when there is one).
    for _ in range(3):
        redis_browser.cookies.clear()
        code = await redis_browser.submit(
            "/gestion/connexion/code", {"code": "123456"}, page="/gestion/connexion"
        )
        assert code.status_code == 303 and "portal_session" not in code.cookies
    assert [k for k in await client.keys("portal_sessions:*")] == []
    # A cookie left from a session that is gone is cleared, and nothing is written.
    redis_browser.cookies.clear()
    redis_browser.cookies.set("portal_session", "0" * 64)
    stale = await redis_browser.get("/mentions")
    assert "portal_session=null" in stale.headers.get("set-cookie", "")
    assert [k for k in await client.keys("portal_sessions:*")] == []
    # The cleared cookie ("null") is not cleared again on every later page.
    redis_browser.cookies.clear()
    redis_browser.cookies.set("portal_session", "null")
    later = await redis_browser.get("/mentions")
    assert not [c for c in later.headers.get_list("set-cookie") if "portal_session" in c]
    # The login form still works from the anonymous binding, and then a session exists.
    redis_browser.cookies.clear()
    assert (await redis_browser.login("dupont", PASSWORD)).status_code == 303
    keys = await client.keys("portal_sessions:*")
    assert len([k for k in keys if b":index:" not in k]) == 1, keys
    await client.aclose()
