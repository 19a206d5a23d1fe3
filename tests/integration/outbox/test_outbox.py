"""The outbox on both databases: queued once, relayed once, retried, never lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from portal import clock
from portal.db import write_transaction
from portal.domain.accounts.service import request_password_reset
from portal.domain.outbox import rules
from portal.domain.outbox.service import claim, due_count, queue_email, relay_due
from portal.settings import Settings
from portal.tables import OutboxEmail
from tests.conftest import Database, SmtpSwitch, mail_text
from tests.factories import make_family


async def _rows() -> list[OutboxEmail]:
    return await OutboxEmail.objects().order_by(OutboxEmail.id)


async def test_queue_email_writes_once_per_key(db: Database) -> None:
    assert await queue_email("k:1", ["a@example.fr", "b@example.fr"], "Sujet", "Texte", "<p>")
    assert not await queue_email("k:1", ["c@example.fr"], "Autre", "Autre")
    [row] = await _rows()
    assert (row.to_addresses, row.subject, row.status, row.attempts) == (
        "a@example.fr;b@example.fr",
        "Sujet",
        "pending",
        0,
    )


async def test_queue_email_belongs_to_the_callers_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with write_transaction():
            assert await queue_email("k:rolled-back", ["a@example.fr"], "S", "T")
            raise RuntimeError("the use case failed after queueing")
    assert await _rows() == []
    # A duplicate inside a transaction does not break it (no unique-violation abort).
    async with write_transaction():
        assert await queue_email("k:2", ["a@example.fr"], "S", "T")
        assert not await queue_email("k:2", ["a@example.fr"], "S", "T")
        assert await queue_email("k:3", ["a@example.fr"], "S", "T")
    assert [r.dedupe_key for r in await _rows()] == ["k:2", "k:3"]


async def test_relay_sends_each_email_once(
    db: Database, mail_settings: Settings, smtp_switch: SmtpSwitch
) -> None:
    await queue_email("k:1", ["a@example.fr"], "Premier", "Bonjour", "<p>Bonjour</p>")
    await queue_email("k:2", ["b@example.fr", "c@example.fr"], "Second", "Re-bonjour")
    outcome = await relay_due(mail_settings)
    assert (outcome.sent, outcome.retried, outcome.failed) == (2, 0, 0)
    again = await relay_due(mail_settings)
    assert again.sent == 0
    messages = await smtp_switch.sink.wait_for(2)
    assert sorted(m["Subject"] for m in messages) == ["Premier", "Second"]
    assert {m["To"] for m in messages} == {"a@example.fr", "b@example.fr, c@example.fr"}
    rows = await _rows()
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1), ("sent", 1)]
    assert all(r.sent_at is not None for r in rows)


async def test_smtp_down_then_back_delivers_everything_once(
    db: Database, mail_settings: Settings, smtp_switch: SmtpSwitch
) -> None:
    for n in range(3):
        await queue_email(f"k:{n}", [f"p{n}@example.fr"], f"E-mail {n}", "Texte")
    smtp_switch.stop()
    down = await relay_due(mail_settings)
    assert (down.sent, down.retried) == (0, 3)
    rows = await _rows()
    assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert all(r.last_error for r in rows)
    assert all(r.next_attempt_at > clock.utcnow() + timedelta(seconds=50) for r in rows)
    # Not due yet: an immediate relay leaves them alone.
    assert (await relay_due(mail_settings)).retried == 0
    assert await due_count() == 0

    clock.shift(61)
    assert (await relay_due(mail_settings)).retried == 3  # still down: second attempt
    smtp_switch.start()
    clock.shift(121)
    assert (await relay_due(mail_settings)).sent == 3
    clock.shift(3600)
    assert (await relay_due(mail_settings)).sent == 0
    messages = await smtp_switch.sink.wait_for(3)
    assert sorted(m["Subject"] for m in messages) == ["E-mail 0", "E-mail 1", "E-mail 2"]
    assert {(r.status, r.attempts, r.last_error) for r in await _rows()} == {("sent", 3, "")}


async def test_an_email_fails_after_the_last_attempt(
    db: Database, mail_settings: Settings, smtp_switch: SmtpSwitch
) -> None:
    await queue_email("k:doomed", ["a@example.fr"], "Sujet", "Texte")
    smtp_switch.stop()
    for attempt in range(1, rules.MAX_ATTEMPTS + 1):
        await relay_due(mail_settings)
        clock.shift(rules.retry_delay(attempt).total_seconds() + 1)
    [row] = await _rows()
    assert (row.status, row.attempts) == ("failed", rules.MAX_ATTEMPTS)
    smtp_switch.start()
    clock.shift(86400)
    assert (await relay_due(mail_settings)).sent == 0
    assert smtp_switch.sink.messages == []


async def test_two_relays_at_once_never_send_twice(
    db: Database, mail_settings: Settings, smtp_switch: SmtpSwitch
) -> None:
    for n in range(12):
        await queue_email(f"k:{n}", [f"p{n}@example.fr"], f"E-mail {n}", "Texte")
    outcomes = await asyncio.gather(*(relay_due(mail_settings) for _ in range(3)))
    assert sum(o.sent for o in outcomes) == 12
    messages = await smtp_switch.sink.wait_for(12)
    # The sink keeps a message before acknowledging it, so once the relays have returned
    # every send is in; each row sent once, none left for a later send: no duplicate.
    assert {(r.status, r.attempts) for r in await _rows()} == {("sent", 1)}
    assert len(smtp_switch.sink.messages) == 12
    assert len({m["Subject"] for m in messages}) == 12


async def test_a_row_is_claimed_by_one_relay_only(db: Database) -> None:
    await queue_email("k:1", ["a@example.fr"], "Sujet", "Texte")
    [row] = await _rows()
    first = await claim(row.id)
    assert first is not None and first.attempts == 1
    assert await claim(row.id) is None


async def test_a_claim_abandoned_by_a_dead_relay_is_taken_back_after_the_lease(
    db: Database, mail_settings: Settings, smtp_switch: SmtpSwitch
) -> None:
    await queue_email("k:1", ["a@example.fr"], "Sujet", "Texte")
    [row] = await _rows()
    assert await claim(row.id) is not None  # ...and the relay process dies here
    assert (await relay_due(mail_settings)).sent == 0
    clock.shift(rules.SENDING_LEASE.total_seconds() - 30)
    assert (await relay_due(mail_settings)).sent == 0
    clock.shift(31)
    outcome = await relay_due(mail_settings)
    assert (outcome.recovered, outcome.sent) == (1, 1)
    [row] = await _rows()
    assert (row.status, row.attempts) == ("sent", 2)
    await smtp_switch.sink.wait_for(1)


async def test_reset_email_goes_through_the_outbox_and_its_link_is_scrubbed(
    db: Database, mail_settings: Settings, smtp_switch: SmtpSwitch
) -> None:
    await make_family(login="dupont", emails="jp@example.fr")
    assert await request_password_reset("dupont", "JP@example.fr", "http://x.local", 30)
    assert not await request_password_reset("dupont", "autre@example.fr", "http://x.local", 30)
    [row] = await _rows()
    assert row.dedupe_key.startswith("password-reset:")
    assert "http://x.local/reinitialiser/" in row.body_text
    await relay_due(mail_settings)
    [message] = await smtp_switch.sink.wait_for(1)
    assert message["To"] == "JP@example.fr"
    assert "http://x.local/reinitialiser/" in mail_text(message)
    [row] = await _rows()
    assert row.status == "sent"
    assert "reinitialiser" not in row.body_text + row.body_html
