"""The clock: a sweep, at start and every minute, that enqueues whatever the database says
is due (pending e-mails, a structure's night). Messages are only hints; losing one loses
nothing because the next sweep finds the same rows."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal import clock
from portal.domain.kitchen.service import structures_with_kitchen
from portal.domain.outbox.service import due_count, relay_running
from portal.domain.periods.allocate import periods_due
from portal.domain.push.service import due_count as push_due_count
from portal.domain.reminders.service import structures_due_for_balance_check
from portal.domain.statements.service import structures_due as structures_due_for_statements
from portal.domain.transmission.service import due_structures
from portal.tasks.broker import enqueue
from portal.tasks.deadline_reminders import send_deadline_reminders
from portal.tasks.kitchen import send_kitchen_sheets
from portal.tasks.outbox import relay_outbox
from portal.tasks.periods import allocate_period
from portal.tasks.push import relay_push
from portal.tasks.reminders import check_low_balances
from portal.tasks.statements import mail_monthly_statements
from portal.tasks.transmission import transmit_structure

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 60.0
# A night enqueued and still not recorded after this long is enqueued again (its message
# may have been lost); shorter would start duplicate runs of a long night.
RENQUEUE_AFTER = timedelta(minutes=30)
# An allocation is minutes long: a lost one is enqueued again sooner than a night.
PERIOD_RENQUEUE_AFTER = timedelta(minutes=5)
# Deadline reminders are looked for this often (a reminder may come up to this late).
DEADLINE_SWEEP = timedelta(minutes=5)


@dataclass(frozen=True)
class SweepResult:
    relay: bool
    structures: tuple[int, ...]


@dataclass
class Scheduler:
    _enqueued: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    _balance_enqueued: dict[int, datetime] = field(default_factory=dict)
    _statements_enqueued: dict[int, datetime] = field(default_factory=dict)
    _periods_enqueued: dict[int, datetime] = field(default_factory=dict)
    _deadlines_swept_at: datetime | None = None

    async def sweep(self, now: datetime | None = None) -> SweepResult:
        """Enqueue the relay when e-mails are due and no relay is running, and each
        structure whose night is due."""
        now = now or clock.utcnow()
        relay = (
            await due_count(now) > 0
            and not await relay_running(now)
            and await enqueue(relay_outbox)
        )
        started = []
        for structure_id, due_at in await due_structures(now):
            previous = self._enqueued.get(structure_id)
            if previous and previous[0] == due_at and now - previous[1] < RENQUEUE_AFTER:
                continue
            if await enqueue(transmit_structure, structure_id):
                self._enqueued[structure_id] = (due_at, now)
                started.append(structure_id)
        await self._sweep_balances(now)
        await self._sweep_statements(now)
        await self._sweep_periods(now)
        if await push_due_count(now) > 0:
            await enqueue(relay_push)
        if self._deadlines_swept_at is None or now - self._deadlines_swept_at >= DEADLINE_SWEEP:
            if await enqueue(send_deadline_reminders):
                self._deadlines_swept_at = now
        await self._sweep_kitchens()
        return SweepResult(relay=relay, structures=tuple(started))

    async def _sweep_balances(self, now: datetime) -> None:
        """Enqueue the daily low-balance check of each structure not yet checked today
        (at most once per 30 minutes per structure while its check is running)."""
        for structure_id in await structures_due_for_balance_check(now):
            previous = self._balance_enqueued.get(structure_id)
            if previous and now - previous < RENQUEUE_AFTER:
                continue
            if await enqueue(check_low_balances, structure_id):
                self._balance_enqueued[structure_id] = now

    async def _sweep_statements(self, now: datetime) -> None:
        """Enqueue the monthly statement mailing of each structure whose past month is due
        (at most once per 30 minutes per structure while its mailing is running)."""
        for structure_id in await structures_due_for_statements(now):
            previous = self._statements_enqueued.get(structure_id)
            if previous and now - previous < RENQUEUE_AFTER:
                continue
            if await enqueue(mail_monthly_statements, structure_id):
                self._statements_enqueued[structure_id] = now

    async def _sweep_periods(self, now: datetime) -> None:
        """Enqueue the allocation of each booking period whose window ended (again after
        a few minutes while it is not recorded as allocated: its message may be lost)."""
        for period_id in await periods_due(now):
            previous = self._periods_enqueued.get(period_id)
            if previous and now - previous < PERIOD_RENQUEUE_AFTER:
                continue
            if await enqueue(allocate_period, period_id):
                self._periods_enqueued[period_id] = now

    async def _sweep_kitchens(self) -> None:
        """Enqueue the kitchen e-mail check of each structure that has a kitchen address;
        the actor queues only the days whose booking closed, each once (outbox key)."""
        for structure_id in await structures_with_kitchen():
            await enqueue(send_kitchen_sheets, structure_id)

    async def run(self, interval: float = SWEEP_INTERVAL_SECONDS) -> None:
        """Sweep now, then every `interval` seconds, until cancelled."""
        while True:
            try:
                result = await self.sweep()
                if result.relay or result.structures:
                    log.info(
                        "sweep : relais %s, transmissions %s",
                        "relancé" if result.relay else "inutile",
                        list(result.structures) or "aucune",
                    )
            except Exception:  # the database may be down: try again at the next tick
                log.exception("sweep : échec, nouvel essai dans %.0f s", interval)
            await asyncio.sleep(interval)
