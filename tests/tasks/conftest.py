"""Fixtures of the background-work tests: settings with a real SMTP server, the in-process
broker, a Dramatiq Worker running in the test, and a night of movements to transmit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from portal.settings import Settings
from portal.tasks import broker as brokers
from portal.tasks import runtime
from tests.conftest import Database
from tests.factories import Night, make_night


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    """The in-process broker, empty."""
    broker = brokers.configure_broker(None)
    runtime.load_actors()
    assert isinstance(broker, StubBroker)
    broker.flush_all()
    yield broker
    broker.flush_all()


@dataclass
class InProcessWorker:
    broker: StubBroker
    worker: dramatiq.Worker

    async def drain(self, *, fail_fast: bool = True) -> None:
        """Wait until every queue is empty (blocking join off the loop the actors use);
        with fail_fast, a message that failed for good raises its exception here."""
        for _ in range(2):  # the transmission enqueues the relay
            for queue in ("transmission", "outbox"):
                await asyncio.to_thread(
                    self.broker.join, queue, timeout=30_000, fail_fast=fail_fast
                )


@pytest.fixture
async def inprocess_worker(
    stub_broker: StubBroker, mail_settings: Settings
) -> AsyncIterator[InProcessWorker]:
    """A real Dramatiq Worker whose async actors run on this test's event loop."""
    worker = runtime.start_worker(asyncio.get_running_loop(), threads=2, timeout_ms=50)
    try:
        yield InProcessWorker(stub_broker, worker)
    finally:
        await asyncio.to_thread(runtime.stop_worker, worker)


@pytest.fixture
async def night(db: Database) -> Night:
    return await make_night()
