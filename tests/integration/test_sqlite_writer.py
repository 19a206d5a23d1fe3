"""SQLite, one writer per process: a write outside write_transaction (a login stamping the
last login) waits its turn behind a confirm instead of failing with "database is locked"."""

from __future__ import annotations

import asyncio

import pytest

from portal.db import PortalSQLiteEngine, _writes, current_engine, write_transaction
from portal.tables import Structure
from tests.conftest import Database


async def test_a_bare_write_queues_behind_the_writer(db: Database) -> None:
    if db.kind != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database")
    engine = current_engine()
    assert isinstance(engine, PortalSQLiteEngine)
    busy_seconds = engine.connection_kwargs["timeout"]
    # A busy handler far shorter than the writer holds the lock: a write that did not
    # queue would fail at once.
    engine.connection_kwargs["timeout"] = 0.05
    await engine.close_idle()
    holding = asyncio.Event()

    async def long_confirm() -> None:
        async with write_transaction():
            await Structure.insert(Structure(name="Mairie", slug="mairie"))
            holding.set()
            await asyncio.sleep(0.5)

    try:
        writer = asyncio.create_task(long_confirm())
        await holding.wait()
        await Structure.update({Structure.name: "Mairie de CarteVille"}).where(
            Structure.slug == "mairie"
        )
        await writer
    finally:
        engine.connection_kwargs["timeout"] = busy_seconds
        await engine.close_idle()
    row = await Structure.select(Structure.name).where(Structure.slug == "mairie").first()
    assert row == {"name": "Mairie de CarteVille"}


def test_which_statements_write() -> None:
    assert not _writes('SELECT "structure"."id" FROM structure')
    assert not _writes("  pragma journal_mode")
    assert not _writes("WITH t AS (SELECT 1) SELECT * FROM t")
    assert _writes('UPDATE "account" SET "last_login_at" = ?')
    assert _writes("INSERT INTO outbox (kind) VALUES (?)")
    assert _writes("WITH t AS (SELECT 1) DELETE FROM outbox WHERE id IN (SELECT * FROM t)")
