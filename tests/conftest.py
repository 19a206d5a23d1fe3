"""Shared fixtures: both database engines, the app over real HTTP semantics, a real SMTP server.

Every test that takes `db` runs once on SQLite and once on PostgreSQL. PostgreSQL and Redis
are skipped with a reason when unreachable locally; with CI=true they must be there.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import settings as hypothesis_settings
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from portal import clock
from portal.db import close_pool, make_engine, start_pool, use_engine
from portal.demo import TZ_NAME, load_demo
from portal.migrate import migrate
from portal.settings import Settings
from portal.tables import ALL_TABLES
from portal.tasks import runtime

IN_CI = os.environ.get("CI", "").lower() == "true"

# Property tests judge results, not speed: a per-example deadline fails them at random on a
# loaded machine (CI shares its cores), and the benchmarks under bench/ measure speed.
hypothesis_settings.register_profile("portal", deadline=None)
hypothesis_settings.load_profile("portal")
POSTGRES_URL = os.environ.get(
    "PORTAL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
_REDIS_BASE = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Tests flush their Redis databases: each xdist worker has two of its own (sessions, then
# the broker), counted down from the configured one (gw0: 15 and 14, gw1: 11 and 10; 12 is
# the benchmark's, bench/opening_rush.py).
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
_REDIS_DB = int(_REDIS_BASE.rsplit("/", 1)[1]) - 4 * _WORKER
assert _REDIS_DB >= 1, f"pas assez de bases Redis pour le worker {_WORKER}"
REDIS_URL = f"{_REDIS_BASE.rsplit('/', 1)[0]}/{_REDIS_DB}"
REDIS_BROKER_URL = f"{_REDIS_BASE.rsplit('/', 1)[0]}/{_REDIS_DB - 1}"


def _reachable(url: str, default_port: int) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, port: int) -> None:
    if _reachable(url, port):
        return
    message = f"{name} injoignable à {url}"
    if IN_CI:
        pytest.fail(f"{message} : en CI ce service est obligatoire")
    pytest.skip(f"{message} (test local sans {name})")


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    env = {
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "PORTAL_SECRET_KEY": "t" * 48,
        "PORTAL_BASE_URL": "http://testserver.local",
    }
    env.update({k: str(v) for k, v in overrides.items()})
    return Settings.from_env(env)


@dataclass
class Database:
    kind: str
    engine: Engine
    url: str


_migrated: dict[str, Database] = {}


async def _prepare(kind: str, tmp_root: Path) -> Database:
    if kind in _migrated:
        return _migrated[kind]
    if kind == "sqlite":
        url = f"sqlite:///{tmp_root / 'test.sqlite3'}"
    else:
        require_service("PostgreSQL", POSTGRES_URL, 5432)
        # A database of this run's own: concurrent runs never share tables, and the
        # migrations are tested from an empty database.
        url = await _create_database(f"portal_test_{os.getpid()}")
    settings = make_settings(tmp_root, url)
    engine = make_engine(settings)
    await migrate(engine)
    # The pool as `portal serve` runs it (db.start_pool), a little wider for the tests.
    await start_pool(engine, max_size=30)
    database = Database(kind, engine, url)
    _migrated[kind] = database
    return database


async def _admin_execute(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _create_database(name: str) -> str:
    await _admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await _admin_execute(f"CREATE DATABASE {name}")
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


async def _truncate(database: Database) -> None:
    names = [t._meta.tablename for t in ALL_TABLES]
    if database.kind == "postgresql":
        await database.engine.run_ddl(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE")
    else:
        # Children first, so foreign keys never point at a deleted row.
        for name in reversed(names):
            await database.engine.run_ddl(f"DELETE FROM {name}")


@pytest.fixture(scope="session")
def db_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("db")


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, db_root: Path) -> AsyncIterator[Database]:
    database = await _prepare(request.param, db_root)
    use_engine(database.engine)
    await _truncate(database)
    clock.reset()
    yield database
    clock.reset()


@pytest.fixture(scope="session", autouse=True)
async def _close_pools() -> AsyncIterator[None]:
    yield
    for database in _migrated.values():
        if isinstance(database.engine, PostgresEngine):
            await close_pool(database.engine)
            await _admin_execute(
                f"DROP DATABASE IF EXISTS {database.url.rsplit('/', 1)[1]} WITH (FORCE)"
            )


# --- The demo data ----------------------------------------------------------------------


@dataclass(frozen=True)
class _DemoTemplate:
    path: Path
    day: date
    made_at: datetime


_demo_templates: dict[str, _DemoTemplate] = {}
# The demo's instants are relative to its loading (a booking made 25 minutes ago): a copy
# older than this is loaded afresh, so that it stays about as recent as a new load.
DEMO_TEMPLATE_MAX_AGE = timedelta(minutes=10)


def _sqlite_copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


async def load_demo_data(database: Database) -> None:
    """`load_demo()` into the emptied test database; on SQLite, loaded once and then copied.

    A load takes seconds (argon2 hashes, thousands of rows) and every browser journey needs
    one: the first load of the day is kept in a file of its own, which SQLite's backup API
    copies over the test database (milliseconds) for the next ones.
    """
    if database.kind != "sqlite":
        await load_demo()
        return
    live_path = Path(database.engine.path)
    now = clock.utcnow()
    today = clock.local_today(TZ_NAME)
    template = _demo_templates.get(database.url)
    if template and template.day == today and abs(now - template.made_at) < DEMO_TEMPLATE_MAX_AGE:
        await asyncio.to_thread(_sqlite_copy, template.path, live_path)
        return
    await load_demo()
    template = _DemoTemplate(live_path.with_name(f"demo-{live_path.name}"), today, now)
    await asyncio.to_thread(_sqlite_copy, live_path, template.path)
    _demo_templates[database.url] = template


# --- SMTP ------------------------------------------------------------------------------


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._arrived:
            self.messages.append(message_from_bytes(envelope.content))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int, timeout: float = 10) -> list[Message]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(self.messages)} e-mail(s) reçu(s), {count} attendu(s)")
            await asyncio.sleep(0.05)
        return self.messages


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    sink = SmtpSink("127.0.0.1", _free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class SmtpSwitch:
    """The `smtp_server` sink behind a server that can go down and come back on its port."""

    sink: SmtpSink
    controller: Controller | None = None

    def start(self) -> None:
        if self.controller is None:
            # A stopped aiosmtpd Controller cannot restart: a new one takes the same port.
            self.controller = Controller(self.sink, hostname=self.sink.host, port=self.sink.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_switch() -> Iterator[SmtpSwitch]:
    """Like `smtp_server`, with stop() and start() to simulate an SMTP outage."""
    switch = SmtpSwitch(SmtpSink("127.0.0.1", _free_port()))
    switch.start()
    try:
        yield switch
    finally:
        switch.stop()


@pytest.fixture
def mail_settings(db: Database, tmp_path: Path, smtp_switch: SmtpSwitch) -> Iterator[Settings]:
    """Settings pointing at the test SMTP server, used by actors and services."""
    settings = make_settings(
        tmp_path,
        db.url,
        PORTAL_SMTP_HOST=smtp_switch.sink.host,
        PORTAL_SMTP_PORT=smtp_switch.sink.port,
    )
    runtime.use_settings(settings)
    yield settings


def mail_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("pas de partie texte")


_session_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _session_exit_status
    _session_exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # The whole suite leaves a heap of several GB (live servers, browsers, hypothesis
    # examples); the interpreter's final garbage collection of it took longer than the run
    # itself. Everything is reported and torn down by now, so leave without it.
    if os.environ.get("PORTAL_TEST_FAST_EXIT", "1") != "1":
        return
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_session_exit_status)
