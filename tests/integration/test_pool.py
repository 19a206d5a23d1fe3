"""The PostgreSQL pool as `portal serve` runs it (portal.db.start_pool / close_pool)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal import db as portal_db
from portal.db import close_pool, make_engine, start_pool
from tests.conftest import POSTGRES_URL, make_settings, require_service


async def test_a_connection_never_given_back_does_not_hold_the_shutdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    monkeypatch.setattr(portal_db, "POOL_CLOSE_SECONDS", 0.2)
    engine = make_engine(make_settings(tmp_path, POSTGRES_URL))
    await start_pool(engine, max_size=2)
    pool = engine.pool  # type: ignore[attr-defined]
    borrowed = await pool.acquire()  # a request's task dropped half-way keeps it
    assert await borrowed.fetchval("SELECT 1") == 1
    await close_pool(engine)
    assert engine.pool is None  # type: ignore[attr-defined]
    assert pool.is_closing()


async def test_connections_go_back_without_a_reset_round_trip(
    tmp_path: Path,
) -> None:
    require_service("PostgreSQL", POSTGRES_URL, 5432)
    engine = make_engine(make_settings(tmp_path, POSTGRES_URL))
    await start_pool(engine, max_size=1)
    pool = engine.pool  # type: ignore[attr-defined]
    try:
        async with pool.acquire() as connection:
            await connection.execute("BEGIN")  # left open by a failed request
            await connection.execute("CREATE TEMP TABLE left_over (x int)")
        async with pool.acquire() as connection:
            # asyncpg still rolls an open transaction back before our (empty) reset.
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SELECT to_regclass('pg_temp.left_over')") is None
    finally:
        await close_pool(engine)
