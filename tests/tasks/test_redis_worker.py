"""A real Redis broker, a real `portal worker` process and `portal scheduler --once`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest
import redis

from portal import clock
from portal.domain.outbox.service import queue_email
from portal.settings import Settings
from portal.tables import Movement, OutboxEmail, Structure
from portal.tasks import broker as brokers
from portal.tasks import runtime
from portal.tasks.outbox import wake_outbox
from portal.tasks.transmission import transmit_structure
from tests.conftest import REDIS_BROKER_URL, Database, SmtpSwitch, require_service
from tests.factories import Night
from tests.tasks.processes import portal_env, portal_process, run_portal

BROKER_URL = REDIS_BROKER_URL


@pytest.fixture
def redis_broker() -> Iterator[dramatiq.Broker]:
    """The broker on a Redis database of these tests only, flushed first."""
    require_service("Redis", BROKER_URL, 6379)
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()
    broker = brokers.configure_broker(BROKER_URL)
    runtime.load_actors()
    try:
        yield broker
    finally:
        brokers.configure_broker(None)
        client.flushdb()
        client.close()


async def _eventually(check: object, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("délai dépassé")
        await asyncio.sleep(0.1)


async def test_worker_process_runs_the_night_and_the_relay_once(
    db: Database,
    night: Night,
    mail_settings: Settings,
    smtp_switch: SmtpSwitch,
    redis_broker: dramatiq.Broker,
    tmp_path: Path,
) -> None:
    last_week = clock.utcnow() - timedelta(days=7)
    await Structure.update({Structure.last_transmission_at: last_week}).where(Structure.id > 0)
    await queue_email("k:hello", ["hello@example.fr"], "Bonjour", "Texte")
    env = portal_env(mail_settings, PORTAL_REDIS_URL=BROKER_URL)

    with portal_process("worker", "--threads", "2", env=env, log=tmp_path / "worker.log"):
        # The clock process finds the missed nights and the pending e-mail...
        scheduler = run_portal("scheduler", "--once", env=env)
        assert scheduler.returncode == 0, scheduler.stderr
        # ...and duplicates of the same work, from a web process, change nothing.
        transmit_structure.send(night.structure.id)
        await wake_outbox()

        async def all_sent() -> bool:
            return len(smtp_switch.sink.messages) >= 5

        await _eventually(all_sent)
        # Every message, duplicates included, has been processed: the queues and their
        # in-flight acknowledgements are empty, so a duplicate's e-mail would be in by now.
        for queue in redis_broker.get_declared_queues():
            await asyncio.to_thread(redis_broker.join, queue, timeout=30_000)

        async def settled() -> bool:
            structures = await Structure.select(Structure.last_transmission_at)
            return all(s["last_transmission_at"] > last_week for s in structures)

        await _eventually(settled)

    recipients = sorted(m["To"].split(",")[0] for m in smtp_switch.sink.messages)
    assert recipients == [
        "eva@example.fr",  # the other structure's night
        "hello@example.fr",
        "jp@example.fr",
        "luc@example.fr",
        "sophie@example.fr",
    ]
    assert await Movement.count().where(Movement.transmitted_at.is_null()) == 0
    assert {r.status for r in await OutboxEmail.objects()} == {"sent"}


def test_worker_and_scheduler_need_redis(tmp_path: Path) -> None:
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    for command in ("worker", "scheduler"):
        result = run_portal(command, env=portal_env(settings))
        assert result.returncode == 2
        assert "a besoin de Redis" in result.stderr
