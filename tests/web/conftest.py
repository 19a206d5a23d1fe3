"""A real HTTP server (uvicorn, in the test's event loop) in front of the app, and a client."""

from __future__ import annotations

import asyncio
import html
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from portal.app import create_app
from portal.settings import Settings
from tests.conftest import Database, SmtpSink, make_settings

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.app = create_app(settings, engine=database.engine)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="on",
                timeout_keep_alive=settings.keepalive_seconds,  # as `portal serve`
            )
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LiveServer:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        if self.task:
            await self.task


class Browser(httpx.AsyncClient):
    """An HTTP client that keeps cookies and fills the CSRF field like a browser would."""

    last_csrf: str | None = None

    async def get(self, url: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        response = await super().get(url, **kwargs)
        if match := CSRF_RE.search(response.text):
            self.last_csrf = match.group(1)
        return response

    async def submit(
        self, url: str, data: dict[str, str], *, page: str | None = None
    ) -> httpx.Response:
        """Post a form as if filled on `page` (default: the form's own URL)."""
        await self.get(page or url)
        assert self.last_csrf, f"aucun jeton CSRF sur {page or url}"
        return await self.post(
            url,
            data={**data, "_csrf_token": self.last_csrf},
            headers={"referer": f"{str(self.base_url).rstrip('/')}/{(page or url).lstrip('/')}"},
        )

    async def login(self, login: str, password: str) -> httpx.Response:
        return await self.submit("/connexion", {"identifier": login, "password": password})


@pytest.fixture
async def live(db: Database, tmp_path: Path, smtp_server: SmtpSink) -> AsyncIterator[LiveServer]:
    settings = make_settings(
        tmp_path,
        db.url,
        PORTAL_SMTP_HOST=smtp_server.host,
        PORTAL_SMTP_PORT=smtp_server.port,
    )
    async with LiveServer(settings, db) as server:
        yield server


@pytest.fixture
async def browser(live: LiveServer) -> AsyncIterator[Browser]:
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as client:
        yield client


def text(response: httpx.Response) -> str:
    """The page as a reader sees it: HTML entities decoded."""
    return html.unescape(response.text)
