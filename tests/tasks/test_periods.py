"""The allocation actor: enqueued by the sweep when a window ends (again only after a
while), and delivered twice through the in-process worker with one effect."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from dramatiq.brokers.stub import StubBroker

from portal import clock
from portal.domain.booking.apply import apply_basket
from portal.domain.booking.opening import PeriodMode
from portal.settings import Settings
from portal.tables import BookingPeriod, OutboxEmail, PeriodRequest
from portal.tasks.periods import allocate_period
from portal.tasks.scheduler import PERIOD_RENQUEUE_AFTER, Scheduler
from tests.conftest import Database
from tests.integration.periods.test_periods import ENDS, OPENS, basket_of, crowd
from tests.tasks.conftest import InProcessWorker


async def test_sweep_enqueues_a_due_allocation_once(
    db: Database, stub_broker: StubBroker, mail_settings: Settings
) -> None:
    period_id, _, _ = await crowd(1, 2, 1, PeriodMode.LOTTERY)
    clock.shift((OPENS - clock.utcnow()).total_seconds())
    scheduler = Scheduler()
    await scheduler.sweep()
    assert stub_broker.queues["periods"].qsize() == 0  # the window is open
    clock.shift((ENDS - clock.utcnow()).total_seconds() + 1)
    await scheduler.sweep()
    await scheduler.sweep()
    assert stub_broker.queues["periods"].qsize() == 1
    clock.shift(PERIOD_RENQUEUE_AFTER.total_seconds())
    await scheduler.sweep()  # still not allocated: its message may be lost
    assert stub_broker.queues["periods"].qsize() == 2
    assert await BookingPeriod.count().where(BookingPeriod.id == period_id) == 1


async def test_actor_twice_one_message_per_family(
    db: Database, inprocess_worker: InProcessWorker
) -> None:
    period_id, [day, _], families = await crowd(3, 1, 1, PeriodMode.LOTTERY)
    for setup in families:
        await apply_basket(setup.account.id, setup.family.id, basket_of(setup, day), OPENS)
    clock.shift((ENDS - clock.utcnow()).total_seconds() + timedelta(minutes=1).total_seconds())
    allocate_period.send(period_id)
    allocate_period.send(period_id)
    await asyncio.to_thread(inprocess_worker.broker.join, "periods", timeout=30_000)
    assert await PeriodRequest.count().where(PeriodRequest.status == "waiting") == 0
    keys = [r["dedupe_key"] for r in await OutboxEmail.select(OutboxEmail.dedupe_key)]
    assert sorted(keys) == sorted(f"period:{period_id}:family:{s.family.id}" for s in families)
