"""Database engines and the write transaction that guards capacity counters."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from portal.settings import Settings

# Piccolo's own commands (migrations, the admin) find the engine through this module.
os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached."""


def make_engine(settings: Settings) -> Engine[Any]:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        # A generous busy timeout: writers queue behind BEGIN IMMEDIATE instead of failing.
        return SQLiteEngine(path=str(path), timeout=30)
    dsn = settings.database_url.replace("postgres://", "postgresql://", 1)
    return PostgresEngine(config={"dsn": dsn}, log_queries=False)


def use_engine(engine: Engine[Any]) -> None:
    """Point Piccolo (configuration module and every table) at ``engine``."""
    from portal import piccolo_conf

    piccolo_conf.DB = engine
    # Every Table class caches its engine, including Piccolo's migration table and the
    # classes that migration files declare, so all of them are re-pointed.
    pending = list(Table.__subclasses__())
    while pending:
        table = pending.pop()
        table._meta.db = engine
        pending.extend(table.__subclasses__())


def current_engine() -> Engine[Any]:
    from portal.tables import Structure

    return Structure._meta.db


def is_sqlite(engine: Engine[Any] | None = None) -> bool:
    return isinstance(engine or current_engine(), SQLiteEngine)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """A transaction that takes the write lock up front.

    On SQLite, BEGIN IMMEDIATE serialises writers, so a read-then-write on a counter cannot
    interleave; on PostgreSQL conditional UPDATEs and row locks do that job.
    """
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
            yield txn
    else:
        async with engine.transaction() as txn:
            yield txn


@asynccontextmanager
async def read_snapshot() -> AsyncIterator[Any]:
    """Several reads on one connection (and one consistent snapshot).

    Piccolo opens a connection per query outside a transaction; a page that reads a dozen
    tables pays that a dozen times, which dominates on SQLite.
    """
    engine = current_engine()
    async with engine.transaction() as txn:
        yield txn


async def check_connection(engine: Engine[Any] | None = None) -> None:
    engine = engine or current_engine()
    try:
        await engine.run_ddl("SELECT 1")
    except Exception as exc:  # the driver's own error types differ per engine
        raise DatabaseUnavailable(describe_db_error(exc)) from exc


def describe_db_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


async def start_pool(engine: Engine[Any]) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=20)


async def close_pool(engine: Engine[Any]) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
