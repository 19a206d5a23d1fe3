"""The actors through a real Dramatiq Worker on the in-process broker (the embedded mode):
each message delivered twice still has one effect."""

from __future__ import annotations

from datetime import timedelta

from dramatiq.brokers.stub import StubBroker

from portal import clock
from portal.db import collect_after_commit
from portal.domain.outbox.service import queue_email
from portal.settings import Settings
from portal.tables import Movement, OutboxEmail, Structure
from portal.tasks.outbox import relay_outbox, wake_outbox
from portal.tasks.scheduler import RENQUEUE_AFTER, Scheduler, SweepResult
from portal.tasks.transmission import transmit_structure
from tests.conftest import Database, SmtpSwitch
from tests.factories import Night
from tests.tasks.conftest import InProcessWorker


async def test_transmission_actor_twice_reports_each_family_once(
    db: Database, night: Night, inprocess_worker: InProcessWorker, smtp_switch: SmtpSwitch
) -> None:
    transmit_structure.send(night.structure.id)
    transmit_structure.send(night.structure.id)
    await inprocess_worker.drain()
    messages = await smtp_switch.sink.wait_for(3)
    assert len(messages) == 3
    assert {m["To"].split(",")[0] for m in messages} == {
        "jp@example.fr",
        "sophie@example.fr",
        "luc@example.fr",
    }
    assert await Movement.count().where(Movement.transmitted_at.is_null()) == 1  # other structure
    assert {r.status for r in await OutboxEmail.objects()} == {"sent"}


async def test_relay_actor_twice_sends_once(
    db: Database, inprocess_worker: InProcessWorker, smtp_switch: SmtpSwitch
) -> None:
    await queue_email("k:1", ["a@example.fr"], "Sujet", "Texte")
    await wake_outbox()
    relay_outbox.send()
    await inprocess_worker.drain()
    await smtp_switch.sink.wait_for(1)
    assert len(smtp_switch.sink.messages) == 1


async def test_unknown_structure_is_dropped_without_retry(
    db: Database, inprocess_worker: InProcessWorker
) -> None:
    transmit_structure.send(987654)
    await inprocess_worker.drain(fail_fast=False)
    [dead] = inprocess_worker.broker.dead_letters
    assert dead.actor_name == "transmit_structure"
    assert "retries" not in dead.options


async def test_sweep_enqueues_due_work_once(
    db: Database, stub_broker: StubBroker, night: Night, mail_settings: Settings
) -> None:
    scheduler = Scheduler()
    assert (await scheduler.sweep()).structures == ()  # today's requests wait for tonight
    # An e-mail whose wake was lost (its process died): only the sweep can find it.
    async with collect_after_commit(run_at_exit=False):
        await queue_email("k:1", ["a@example.fr"], "Sujet", "Texte")
    clock.shift(86400)  # the machine was off last night
    first = await scheduler.sweep()
    assert first.relay
    both = tuple(r["id"] for r in await Structure.select(Structure.id).order_by(Structure.id))
    assert night.structure.id in both
    assert first.structures == both
    # The next minute: the night is already on its way, the relay is asked again (cheap).
    clock.shift(60)
    assert (await scheduler.sweep()).structures == ()
    # Its message was lost (no progress after a while): enqueued again.
    clock.shift(RENQUEUE_AFTER.total_seconds())
    assert (await scheduler.sweep()).structures == both
    assert stub_broker.queues["transmission"].qsize() == 4
    assert stub_broker.queues["outbox"].qsize() == 3


async def test_sweep_then_worker_catch_up_a_missed_night(
    db: Database, night: Night, inprocess_worker: InProcessWorker, smtp_switch: SmtpSwitch
) -> None:
    last_week = clock.utcnow() - timedelta(days=7)
    await Structure.update({Structure.last_transmission_at: last_week}).where(Structure.id > 0)
    await Scheduler().sweep()
    await inprocess_worker.drain()
    await smtp_switch.sink.wait_for(3)
    structure = await Structure.objects().get(Structure.id == night.structure.id)
    assert structure is not None and structure.last_transmission_at > last_week
    assert await Scheduler().sweep() == SweepResult(relay=False, structures=())
