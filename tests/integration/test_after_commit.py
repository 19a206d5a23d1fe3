"""After-commit work registered on `write_transaction()`: after a commit, in order, only once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal import db as portal_db
from portal.db import after_commit, collect_after_commit, write_transaction
from portal.domain.outbox import service as outbox
from portal.domain.outbox.service import queue_email
from portal.tables import OutboxEmail
from tests.conftest import Database


class Calls:
    def __init__(self) -> None:
        self.log: list[str] = []

    def recorder(self, name: str) -> portal_db.AfterCommit:
        async def record() -> None:
            self.log.append(name)

        return record


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def wakes() -> Iterator[list[int]]:
    """Counts the relay wakes, in place of the Dramatiq actor that `portal.tasks` registers."""
    woken: list[int] = []
    previous = outbox._relay_waker

    async def wake() -> None:
        woken.append(1)

    outbox.use_relay_waker(wake)
    yield woken
    outbox.use_relay_waker(previous)


async def test_callbacks_run_after_the_commit_in_order(db: Database, calls: Calls) -> None:
    async with write_transaction() as work:
        work.after_commit(calls.recorder("first"))
        await after_commit(calls.recorder("second"))
        work.after_commit(calls.recorder("third"))
        assert calls.log == []  # nothing before the commit
    assert calls.log == ["first", "second", "third"]


async def test_callbacks_see_the_committed_rows(db: Database) -> None:
    seen: list[int] = []

    async def count_rows() -> None:
        seen.append(await OutboxEmail.count())

    async with write_transaction() as work:
        await queue_email("k:visible", ["a@example.fr"], "S", "T")
        work.after_commit(count_rows)
    assert seen == [1]


async def test_no_callback_after_a_rollback(db: Database, calls: Calls) -> None:
    with pytest.raises(RuntimeError):
        async with write_transaction() as work:
            work.after_commit(calls.recorder("never"))
            raise RuntimeError("the use case failed")
    # The next transaction does not inherit the discarded work either.
    async with write_transaction() as work:
        work.after_commit(calls.recorder("next"))
    assert calls.log == ["next"]


async def test_nested_use_runs_after_the_outermost_commit(db: Database, calls: Calls) -> None:
    async with write_transaction() as outer:
        async with write_transaction() as inner:
            assert inner is outer
            inner.after_commit(calls.recorder("inner"))
        assert calls.log == []  # the inner block ending is not a commit
        outer.after_commit(calls.recorder("outer"))
    assert calls.log == ["inner", "outer"]


async def test_nested_failure_rolls_back_everything(db: Database, calls: Calls) -> None:
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await queue_email("k:outer", ["a@example.fr"], "S", "T")
            async with write_transaction() as inner:
                inner.after_commit(calls.recorder("inner"))
                raise RuntimeError("inner failure")
    assert calls.log == []
    assert await OutboxEmail.count() == 0


async def test_keyed_callbacks_run_once(db: Database, calls: Calls) -> None:
    async with write_transaction() as work:
        for _ in range(3):
            work.after_commit(calls.recorder("keyed"), key="wake")
        work.after_commit(calls.recorder("other"))
    assert calls.log == ["keyed", "other"]


async def test_a_failing_callback_does_not_undo_the_commit(db: Database, calls: Calls) -> None:
    async def broken() -> None:
        raise ConnectionError("broker down")

    async with write_transaction() as work:
        await queue_email("k:kept", ["a@example.fr"], "S", "T")
        work.after_commit(broken)
        work.after_commit(calls.recorder("after"))
    assert calls.log == ["after"]
    assert await OutboxEmail.count() == 1


async def test_outside_a_transaction_the_callback_runs_now(db: Database, calls: Calls) -> None:
    await after_commit(calls.recorder("now"))
    assert calls.log == ["now"]


async def test_queue_email_wakes_the_relay_once_per_commit(db: Database, wakes: list[int]) -> None:
    async with write_transaction():
        for n in range(3):
            await queue_email(f"k:{n}", ["a@example.fr"], "S", "T")
        assert wakes == []
    assert wakes == [1]
    # A duplicate key queues nothing, so nothing to wake.
    async with write_transaction():
        assert not await queue_email("k:0", ["a@example.fr"], "S", "T")
    assert wakes == [1]
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await queue_email("k:rolled-back", ["a@example.fr"], "S", "T")
            raise RuntimeError("failed")
    assert wakes == [1]


async def test_collected_transactions_wake_the_relay_once(
    db: Database, wakes: list[int], calls: Calls
) -> None:
    async with collect_after_commit():
        for n in range(3):
            async with write_transaction():
                await queue_email(f"k:{n}", ["a@example.fr"], "S", "T")
        assert wakes == []
    assert wakes == [1]
    async with collect_after_commit(run_at_exit=False) as held:
        async with write_transaction() as work:
            work.after_commit(calls.recorder("held"))
    assert calls.log == []
    await held.run()
    await held.run()
    assert calls.log == ["held"]
