"""Database engines and the write transaction that guards capacity counters."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.table import Table

from portal.settings import Settings

log = logging.getLogger(__name__)

# Piccolo's own commands (migrations, the admin) find the engine through this module.
os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached."""


class PortalSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with its connections kept for reuse.

    Piccolo opens a new aiosqlite connection (a thread, a file open, the whole schema parsed
    again at the first statement) for every transaction and every statement outside one,
    and closes it after; a booking page paid that two or three times. Here a connection
    goes back to a small idle list instead, rolled back if a transaction was left open.
    Each connection is used by one task at a time, as before. Also, the
    "PRAGMA foreign_keys = 1" Piccolo runs before every statement of a transaction (a no-op
    inside one, and a round trip to the connection's thread) is set once, when it opens.
    """

    IDLE_CONNECTIONS = 8

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[aiosqlite.Connection] = []

    async def _open(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # An idle connection's thread must not keep the process alive at exit.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def get_connection(self) -> aiosqlite.Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection._connection is not None:
                return connection
        return await self._open()

    async def release(self, connection: aiosqlite.Connection) -> None:
        """Back to the idle list (or closed when it is full or broken)."""
        if connection._connection is None:
            return
        try:
            if connection.in_transaction:
                await connection.rollback()
        except Exception:  # the driver's own errors: do not keep this connection
            await connection.close()
            return
        if len(self._idle) < self.IDLE_CONNECTIONS:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _PooledTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if _writes(query) and not _holding_writer.get():
            # A write outside write_transaction (a login's last-login stamp) queues with the
            # process's writers: otherwise it spins in SQLite's busy handler behind them and,
            # with a long queue of confirms, fails with "database is locked" (a 503).
            async with _writer_lock(self):
                return await self._run_alone(query, args, query_type, table)
        return await self._run_alone(query, args, query_type, table)

    async def _run_alone(
        self, query: str, args: list[Any] | None, query_type: str, table: type[Table] | None
    ) -> Any:
        connection = await self.get_connection()
        try:
            async with connection.execute(query, args or []) as cursor:
                await connection.commit()
                return await self._rows(cursor, query_type, table)
        finally:
            await self.release(connection)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        async with connection.execute(query, args or []) as cursor:
            return await self._rows(cursor, query_type, table)

    async def _rows(self, cursor: Any, query_type: str, table: type[Table] | None) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:
            # No RETURNING before SQLite 3.35: Piccolo reads the key back.
            assert table is not None
            pk = await self._get_inserted_pk(cursor, table)
            return [{table._meta.primary_key._meta.db_column_name: pk}]
        return await cursor.fetchall()


class _PooledTransaction(SQLiteTransaction):
    """Piccolo's transaction, giving its connection back to the engine instead of closing
    it, and in every case (Piccolo's leaves the connection open if COMMIT fails)."""

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        engine = self.engine
        assert isinstance(engine, PortalSQLiteEngine)
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        finally:
            await engine.release(self.connection)
            engine.current_transaction.reset(self.context)
        return exception is None


def make_engine(settings: Settings) -> Engine[Any]:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Writers of this process queue on an asyncio lock (write_transaction); the busy
        # timeout covers the other processes (a worker, the command line).
        return PortalSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_SECONDS)
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


def placeholders(count: int) -> str:
    """``{}, {}, ...``: a raw query's parameters for an IN list or a row of values."""
    return ", ".join(["{}"] * count)


def is_sqlite(engine: Engine[Any] | None = None) -> bool:
    return isinstance(engine or current_engine(), SQLiteEngine)


SQLITE_BUSY_SECONDS = 15

# One writer per process on SQLite: BEGIN IMMEDIATE of concurrent requests would otherwise
# spin in SQLite's busy handler (and fail with "database is locked" after the timeout);
# an asyncio lock queues them fairly instead. One lock per engine and event loop.
_writer_locks: dict[tuple[int, int], asyncio.Lock] = {}
_holding_writer: ContextVar[bool] = ContextVar("portal_holding_writer", default=False)


_READ_STATEMENT = re.compile(r"\s*(SELECT|PRAGMA|EXPLAIN)\b", re.IGNORECASE)
_WRITE_KEYWORD = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


def _writes(query: str) -> bool:
    """Whether a statement may write (a WITH clause counts when it holds a write)."""
    if _READ_STATEMENT.match(query):
        return False
    if re.match(r"\s*WITH\b", query, re.IGNORECASE):
        return bool(_WRITE_KEYWORD.search(query))
    return True


def _writer_lock(engine: Engine[Any]) -> asyncio.Lock:
    key = (id(engine), id(asyncio.get_running_loop()))
    lock = _writer_locks.get(key)
    if lock is None:
        lock = _writer_locks[key] = asyncio.Lock()
    return lock


AfterCommit = Callable[[], Awaitable[object]]


class UnitOfWork:
    """One outermost write transaction and the work to do once it has committed.

    Waking the outbox relay or enqueuing an actor is registered here (`after_commit`) by
    whoever causes it, so that it happens after a successful commit only, never after a
    rollback, and nobody calls a "wake" function by hand after a commit.
    """

    def __init__(self) -> None:
        self.transaction: Any = None
        self._callbacks: list[tuple[Hashable | None, AfterCommit]] = []
        self._keys: set[Hashable] = set()

    def after_commit(self, callback: AfterCommit, *, key: Hashable | None = None) -> None:
        """Run ``callback`` after the commit, in registration order; once per ``key``."""
        if key is not None:
            if key in self._keys:
                return
            self._keys.add(key)
        self._callbacks.append((key, callback))

    def _take(self) -> list[tuple[Hashable | None, AfterCommit]]:
        taken, self._callbacks, self._keys = self._callbacks, [], set()
        return taken

    async def run(self) -> None:
        """Run (once) what was registered; errors are logged, never raised."""
        await _run_callbacks(self._take())


_current_work: ContextVar[UnitOfWork | None] = ContextVar("portal_unit_of_work", default=None)
_collector: ContextVar[UnitOfWork | None] = ContextVar("portal_collector", default=None)


async def _run_callbacks(callbacks: list[tuple[Hashable | None, AfterCommit]]) -> None:
    for _key, callback in callbacks:
        try:
            await callback()
        except Exception:  # the commit stands; what was deferred has its own safety net
            log.exception("après validation : %r a échoué", callback)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[UnitOfWork]:
    """A transaction that takes the write lock up front, with after-commit callbacks.

    On SQLite, BEGIN IMMEDIATE serialises writers, so a read-then-write on a counter cannot
    interleave; the process's writers queue on one asyncio lock before it. On PostgreSQL
    conditional UPDATEs and row locks do that job. Nested use joins the outer transaction:
    its callbacks run after the outermost commit.
    """
    outer = _current_work.get()
    if outer is not None:
        async with current_engine().transaction():
            yield outer
        return
    work = UnitOfWork()
    token = _current_work.set(work)
    try:
        async with _begin_write() as txn:
            work.transaction = txn
            yield work
    except BaseException:
        work._take()
        raise
    finally:
        _current_work.reset(token)
    collector = _collector.get()
    if collector is not None:
        for key, callback in work._take():
            collector.after_commit(callback, key=key)
        return
    await work.run()


@asynccontextmanager
async def _begin_write() -> AsyncIterator[Any]:
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        if _holding_writer.get():  # already the writer (a task started inside): join it
            async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
                yield txn
            return
        async with _writer_lock(engine):
            token = _holding_writer.set(True)
            try:
                async with engine.transaction(transaction_type=TransactionType.immediate) as txn:
                    yield txn
            finally:
                _holding_writer.reset(token)
    else:
        async with engine.transaction() as txn:
            yield txn


async def after_commit(callback: AfterCommit, *, key: Hashable | None = None) -> None:
    """Register ``callback`` on the current write transaction, or run it now if none.

    Outside `write_transaction()` each statement commits on its own, so "after the commit"
    is now.
    """
    work = _current_work.get()
    if work is not None:
        work.after_commit(callback, key=key)
    elif (collector := _collector.get()) is not None:
        collector.after_commit(callback, key=key)
    else:
        await _run_callbacks([(key, callback)])


@asynccontextmanager
async def collect_after_commit(*, run_at_exit: bool = True) -> AsyncIterator[UnitOfWork]:
    """Hold the after-commit work of several transactions and run it once, at the end.

    A batch that commits per item (a night's reports, one family per transaction) wakes
    the relay once instead of once per item. What was committed still gets its callbacks
    if the batch fails later. With ``run_at_exit=False`` the caller runs it (`.run()`),
    for instance after the response has been sent.
    """
    outer = _current_work.get() or _collector.get()
    if outer is not None:  # inside a transaction or a collection: the outer scope runs it
        yield outer
        return
    collector = UnitOfWork()
    token = _collector.set(collector)
    try:
        yield collector
    finally:
        _collector.reset(token)
        if run_at_exit:
            await collector.run()


@asynccontextmanager
async def read_snapshot() -> AsyncIterator[None]:
    """Several reads that should share one connection.

    SQLite: one transaction, hence one connection and one consistent snapshot (Piccolo opens
    a connection per query outside a transaction, which dominates a page that reads a dozen
    tables). PostgreSQL: nothing; each query borrows a pooled connection, which costs no
    round trip, whereas BEGIN and COMMIT cost two, and a transaction at READ COMMITTED gave
    each statement its own snapshot anyway. Inside a write transaction, reads use it.
    """
    engine = current_engine()
    if not isinstance(engine, SQLiteEngine):
        yield
        return
    async with engine.transaction():
        yield


async def check_connection(engine: Engine[Any] | None = None) -> None:
    engine = engine or current_engine()
    try:
        if isinstance(engine, PortalSQLiteEngine):
            # A fresh connection, as before the pool: a kept one still reads a file that
            # was removed or made unreadable since it opened.
            async with aiosqlite.connect(**engine.connection_kwargs) as connection:
                await connection.execute("SELECT 1")
            return
        await engine.run_ddl("SELECT 1")
    except Exception as exc:  # the driver's own error types differ per engine
        raise DatabaseUnavailable(describe_db_error(exc)) from exc


_SQLITE_OUTAGES = ("unable to open database file", "disk i/o error", "database is locked")


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database is away or overwhelmed, rather
    than that a query is wrong: the connection was lost or refused, the server is shutting
    down or out of connections, the file cannot be opened (a French 503, never a 500)."""
    import socket
    import sqlite3

    import asyncpg

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            DatabaseUnavailable
            | ConnectionError  # refused, reset, broken pipe
            | socket.gaierror  # the server's name no longer resolves
            | TimeoutError  # pool acquisition, connect timeout
            | asyncpg.InternalClientError  # protocol state broken by a lost connection
            | asyncpg.InterfaceError  # "connection is closed", "pool is closing"
            | asyncpg.PostgresConnectionError  # SQLSTATE class 08
            | asyncpg.exceptions.OperatorInterventionError  # 57: shutdown, cannot connect now
            | asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections
        ):
            return True
        if type(current) is OSError:  # asyncpg's "Multiple exceptions: [Errno 111] ..."
            return True
        if isinstance(current, sqlite3.OperationalError) and str(current).lower().startswith(
            _SQLITE_OUTAGES
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def describe_db_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


async def _keep_session_state(connection: Any) -> None:
    """Nothing to undo when a connection goes back to the pool: the portal never changes
    session state (no SET outside a transaction, no LISTEN, no advisory lock, no cursor
    kept), and asyncpg still rolls back an unfinished transaction before calling this.
    Its default reset is one more round trip ("RESET ALL; UNLISTEN *; ...") after every
    query or transaction, which a tap pays twice."""


async def start_pool(engine: Engine[Any], *, max_size: int = 20) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=max_size, reset=_keep_session_state)


POOL_CLOSE_SECONDS = 10


async def close_pool(engine: Engine[Any]) -> None:
    """Close the pool, waiting for borrowed connections a while; then cut them.

    asyncpg's close waits for every borrowed connection to come back; one that never does
    (a request's task dropped half-way) would hold the shutdown forever.
    """
    if isinstance(engine, PortalSQLiteEngine):
        await engine.close_idle()
        return
    if not isinstance(engine, PostgresEngine) or engine.pool is None:
        return
    pool = engine.pool
    try:
        async with asyncio.timeout(POOL_CLOSE_SECONDS):
            await pool.close()
    except TimeoutError:
        log.warning(
            "pool PostgreSQL : connexions non rendues après %s s, coupées", POOL_CLOSE_SECONDS
        )
        pool.terminate()
    engine.pool = None
