"""The relay over persistent SMTP connections (a real aiosmtpd server), and one relay at a
time: a lease in the database that the minute sweep respects."""

from __future__ import annotations

import asyncio
import email
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from dramatiq.brokers.stub import StubBroker

from portal import clock
from portal.domain.outbox import rules
from portal.domain.outbox import service as outbox
from portal.domain.outbox.service import (
    RELAY_LEASE,
    queue_email,
    relay_due,
    relay_exclusively,
    relay_running,
    take_lease,
)
from portal.settings import Settings
from portal.tables import OutboxEmail
from portal.tasks import broker as brokers
from portal.tasks import runtime
from portal.tasks.scheduler import Scheduler
from tests.conftest import Database, _free_port, mail_text, make_settings


@dataclass
class CountingServer:
    """An SMTP server that records which connection carried each message."""

    host: str
    port: int
    refuse: set[str] = field(default_factory=set)
    messages: list[tuple[int, Message]] = field(default_factory=list)
    connections: set[int] = field(default_factory=set)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 Boîte inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not hasattr(session, "number"):  # ids of dead sessions may be reused
            session.number = len(self.connections) + 1
        self.connections.add(session.number)
        self.messages.append((session.number, email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer("127.0.0.1", _free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def settings(db: Database, tmp_path: Any, counting_server: CountingServer) -> Settings:
    settings = make_settings(
        tmp_path,
        db.url,
        PORTAL_SMTP_HOST=counting_server.host,
        PORTAL_SMTP_PORT=counting_server.port,
    )
    runtime.use_settings(settings)
    return settings


async def test_many_emails_share_a_few_connections_and_go_once(
    db: Database,
    settings: Settings,
    counting_server: CountingServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rules, "MESSAGES_PER_CONNECTION", 5)
    monkeypatch.setattr(outbox, "BATCH", 12)
    for n in range(40):
        await queue_email(f"k:{n}", [f"p{n}@example.fr"], f"Réservé n° {n}", f"Texte {n} é")
    outcome = await relay_due(settings)
    assert (outcome.sent, outcome.retried, outcome.failed) == (40, 0, 0)
    assert (await relay_due(settings)).sent == 0
    subjects = sorted(
        str(email.header.make_header(email.header.decode_header(m["Subject"])))
        for _, m in counting_server.messages
    )
    assert subjects == sorted(f"Réservé n° {n}" for n in range(40))  # each once
    per_connection: dict[int, int] = {}
    for connection, _ in counting_server.messages:
        per_connection[connection] = per_connection.get(connection, 0) + 1
    # Each connection reused, up to the cap of 5 messages: 8 connections at least, and
    # far fewer than one per message.
    assert max(per_connection.values()) == 5
    assert 8 <= len(per_connection) <= 8 + rules.RELAY_CONNECTIONS
    assert mail_text(counting_server.messages[0][1]).startswith("Texte ")
    rows = await OutboxEmail.select(OutboxEmail.status, OutboxEmail.attempts)
    assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 1)}


async def test_a_refused_recipient_is_retried_alone_and_the_connection_goes_on(
    db: Database, settings: Settings, counting_server: CountingServer
) -> None:
    counting_server.refuse = {"inconnu@example.fr"}
    for n in range(6):
        await queue_email(f"k:{n}", [f"p{n}@example.fr"], f"E-mail {n}", "Texte")
    await queue_email("k:bad", ["inconnu@example.fr"], "Refusé", "Texte")
    outcome = await relay_due(settings)
    assert (outcome.sent, outcome.retried) == (6, 1)
    [bad] = await OutboxEmail.objects().where(OutboxEmail.dedupe_key == "k:bad")
    assert (bad.status, bad.attempts) == ("pending", 1)
    assert "550" in bad.last_error
    assert len(counting_server.connections) <= rules.RELAY_CONNECTIONS


async def test_one_relay_at_a_time(
    db: Database, settings: Settings, counting_server: CountingServer
) -> None:
    for n in range(3):
        await queue_email(f"k:{n}", [f"p{n}@example.fr"], f"E-mail {n}", "Texte")
    assert not await relay_running()
    assert await take_lease(RELAY_LEASE, "another-relay")
    assert await relay_running()
    # A relay started meanwhile (a wake-up) steps aside: the running one sends.
    assert await relay_exclusively(settings) is None
    assert counting_server.messages == []
    # The other relay died: its lease runs out and the next relay takes over.
    clock.shift(rules.RELAY_LEASE_DURATION.total_seconds() + 1)
    assert not await relay_running()
    outcome = await relay_exclusively(settings)
    assert outcome is not None and outcome.sent == 3
    assert not await relay_running()  # released at the end
    assert await take_lease(RELAY_LEASE, "next")


async def test_two_relays_started_together_send_everything_once(
    db: Database, settings: Settings, counting_server: CountingServer
) -> None:
    for n in range(10):
        await queue_email(f"k:{n}", [f"p{n}@example.fr"], f"E-mail {n}", "Texte")
    outcomes = await asyncio.gather(relay_exclusively(settings), relay_exclusively(settings))
    ran = [o for o in outcomes if o is not None]
    assert sum(o.sent for o in ran) == 10
    assert len(counting_server.messages) == 10


async def test_the_sweep_starts_no_relay_while_one_runs(
    db: Database, settings: Settings, counting_server: CountingServer
) -> None:
    broker = brokers.configure_broker(None)
    runtime.load_actors()
    assert isinstance(broker, StubBroker)
    broker.flush_all()
    try:
        await queue_email("k:1", ["a@example.fr"], "Sujet", "Texte")
        broker.flush_all()  # its wake-up: the running relay is to send it
        assert await take_lease(RELAY_LEASE, "running-relay")
        assert not (await Scheduler().sweep()).relay
        assert broker.queues["outbox"].qsize() == 0
        clock.shift(rules.RELAY_LEASE_DURATION.total_seconds() + 1)  # that relay died
        assert (await Scheduler().sweep()).relay
        assert broker.queues["outbox"].qsize() == 1
    finally:
        broker.flush_all()
