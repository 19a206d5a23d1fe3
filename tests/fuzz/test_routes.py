"""Every route of the app, fuzzed: no 5xx, and a refused request (4xx) writes nothing.

For each handler of ``app.routes`` (so new routes are covered by construction), Hypothesis
draws requests with malformed path parameters, query strings and bodies (missing, repeated
and unknown fields, wrong types, 1 MB strings, unicode, huge and negative numbers,
impossible dates, SQL and HTML meta-characters, broken encodings), sent with a valid
session and CSRF token of the role the handler asks for (parent, agent or anonymous) on the
demonstration data. Triggers on every table count the rows each request writes.

Bounded and reproducible: ``derandomize=True``, no example database, no shrinking (the
failing request is printed as drawn). PORTAL_FUZZ_EXAMPLES sets the examples per handler
(default 8 on SQLite, 3 on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
import os
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from litestar import Litestar
from litestar.stores.base import Store

from portal.app import create_app
from portal.demo import DEMO_PASSWORDS, load_demo
from tests.conftest import Database, make_settings
from tests.fuzz import harness
from tests.fuzz.strategies import materialize, requests

T = TypeVar("T")
BASE_URL = "http://testserver.local"


@dataclass
class Fuzzer:
    app: Litestar
    database: Database
    loop: asyncio.AbstractEventLoop
    roles: dict[str, harness.Role]
    fields: list[str]
    errors: list[str]

    @property
    def store(self) -> Store:
        return self.app.stores.get("sessions")

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the test's event loop (where the database pool lives), from a thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    async def send(self, target: harness.Target, request: dict[str, Any]) -> tuple[int, str, dict]:
        cookies, headers = await harness.fresh_session(
            self.store, self.roles[target.role], self.app.state.settings.secret_key
        )
        before = await harness.writes(self.database.engine)
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, cookies=cookies, timeout=60
        ) as client:
            request = materialize(request)
            extra = request.pop("headers", {})
            response = await client.request(headers={**headers, **extra}, **request)
        after = await harness.writes(self.database.engine)
        if response.status_code >= 500 and self.errors:
            return response.status_code, self.errors.pop(), {}
        self.errors.clear()
        changed = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
        return response.status_code, response.text[:300], changed


async def _login(client: httpx.AsyncClient, page: str, login: str) -> bytes:
    form = await client.get(page)
    token = form.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = await client.post(
        page, data={"identifier": login, "password": DEMO_PASSWORDS[login], "_csrf_token": token}
    )
    assert answer.status_code == 303, (login, answer.status_code, answer.text[:500])
    await client.get("/")  # the session gets its CSRF secret on the next request
    return client.cookies["portal_session"].encode()


@pytest.fixture
async def fuzzer(db: Database, tmp_path: Path) -> AsyncIterator[Fuzzer]:
    await load_demo()
    app = create_app(
        make_settings(tmp_path, db.url, PORTAL_EMBEDDED_WORKER="0", PORTAL_DEMO="1"),
        engine=db.engine,
    )
    store = app.stores.get("sessions")
    roles = {"anonymous": harness.Role("anonymous", None)}
    transport = httpx.ASGITransport(app=app)
    for role, page, login in (
        ("parent", "/connexion", "dupont"),
        ("staff", "/gestion/connexion", "gestion"),
    ):
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            session_id = (await _login(client, page, login)).decode()
            raw = await store.get(session_id)
            assert raw is not None
            roles[role] = harness.Role(role, raw)
    errors: list[str] = []
    capture = _ErrorCapture(errors)
    logging.getLogger("portal").addHandler(capture)
    await harness.install_write_counter(db.engine, db.kind)
    try:
        yield Fuzzer(app, db, asyncio.get_running_loop(), roles, harness.form_field_names(), errors)
    finally:
        logging.getLogger("portal").removeHandler(capture)
        await harness.remove_write_counter(db.engine, db.kind)


class _ErrorCapture(logging.Handler):
    """Keeps the traceback of the unhandled errors the app logs, for the report."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            lines = traceback.format_exception(record.exc_info[1])
            self.errors.append("".join(lines[-6:])[-1200:])


def _examples(kind: str) -> int:
    default = 8 if kind == "sqlite" else 3
    return int(os.environ.get("PORTAL_FUZZ_EXAMPLES", default))


def _fuzz_one(fuzzer: Fuzzer, target: harness.Target, examples: int) -> str | None:
    """Fuzz one handler; the first problem found, described, or None."""

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(requests(target, fuzzer.fields))
    def check(request: dict[str, Any]) -> None:
        shown = {k: (v[:300] if isinstance(v, str | bytes) else v) for k, v in request.items()}
        status, body, changed = fuzzer.run(fuzzer.send(target, dict(request)))
        assert status < 500, f"{status} pour {shown} :\n{body}"
        if 400 <= status < 500:
            assert not changed, f"{status} mais écritures {changed} pour {shown}"

    try:
        check()
    except AssertionError as exc:
        return f"{target.name} [{target.role}] : {str(exc)[:1500]}"
    return None


async def _fuzz_all(fuzzer: Fuzzer, pick: Callable[[harness.Target], bool]) -> list[str]:
    examples = _examples(fuzzer.database.kind)
    chosen = [t for t in harness.targets(fuzzer.app) if pick(t)]
    assert len(chosen) > 20, "les routes de l'application n'ont pas été trouvées"

    def work() -> list[str]:
        found = (_fuzz_one(fuzzer, target, examples) for target in chosen)
        return [problem for problem in found if problem]

    return await asyncio.to_thread(work)


async def test_no_route_answers_5xx_or_writes_when_it_refuses(fuzzer: Fuzzer) -> None:
    problems = await _fuzz_all(fuzzer, lambda target: True)
    assert not problems, "\n\n".join(problems)
