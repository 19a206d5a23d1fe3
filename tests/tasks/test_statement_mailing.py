"""The monthly statement mailing through the minute sweep and a real Dramatiq Worker on the
in-process broker: the sweep of the 1st enqueues the structure, the actor queues one e-mail
per family and wallet, and later sweeps (or a replayed message) add nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from email.header import decode_header, make_header

from portal import clock
from portal.domain.money import service as money
from portal.domain.money.rules import Month
from portal.domain.staff.service import Actor
from portal.domain.statements import service as statements
from portal.tables import OutboxEmail
from portal.tasks.scheduler import Scheduler
from portal.tasks.statements import mail_monthly_statements
from tests.conftest import Database, SmtpSwitch
from tests.factories import TZ, make_staff, money_setup, today
from tests.tasks.conftest import InProcessWorker


async def _drain(worker: InProcessWorker) -> None:
    await asyncio.to_thread(worker.broker.join, "reminders", timeout=30_000, fail_fast=True)
    await worker.drain()


async def test_the_sweep_of_the_first_mails_each_statement_once(
    db: Database, inprocess_worker: InProcessWorker, smtp_switch: SmtpSwitch
) -> None:
    setup = await money_setup(emails="sophie.martin@example.fr")
    sid = int(setup.structure.id)
    await money.record_correction(setup.wallet_id, -500, "Cantine", today())
    month = Month.of(today())
    actor = Actor.of(await make_staff("regisseur", setup.structure))
    await statements.save_mail_setting(actor, sid, True)

    scheduler = Scheduler()
    await scheduler.sweep()  # today: not due (chosen today, mailed from the next 1st)
    await _drain(inprocess_worker)
    assert await OutboxEmail.count().where(OutboxEmail.dedupe_key.like("statement:%")) == 0

    due_at = datetime.combine(month.shift(1).first_day, time(8, 0), tzinfo=clock.zone(TZ))
    clock.shift((due_at - clock.utcnow()).total_seconds())
    await scheduler.sweep()
    mail_monthly_statements.send(sid)  # a duplicate message
    await _drain(inprocess_worker)
    clock.shift(timedelta(hours=2).total_seconds())
    await scheduler.sweep()  # the month is recorded: nothing enqueued
    await _drain(inprocess_worker)

    [mail] = await OutboxEmail.select().where(OutboxEmail.dedupe_key.like("statement:%"))
    assert mail["dedupe_key"] == f"statement:{setup.family_id}:{setup.wallet_id}:{month.key}"
    [sent] = await smtp_switch.sink.wait_for(1)
    subject = str(make_header(decode_header(str(sent["Subject"]))))
    assert subject == f"Relevé de compte de {month.label.lower()} · Services Scolaires et ALSH"
    assert (await statements.mail_setting(sid)).last_month == month.key
