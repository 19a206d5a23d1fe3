"""The deadline-reminder actor: enqueued by the minute sweep, it reminds every account
whose lead time before a booking deadline has come (each reminder once)."""

from __future__ import annotations

import logging

import dramatiq

from portal.context import current_settings
from portal.domain.deadline_reminders.service import send_all_due
from portal.tasks import broker as _broker  # noqa: F401  (the broker is set before any actor)

log = logging.getLogger(__name__)


@dramatiq.actor(
    queue_name="reminders",
    max_retries=3,
    min_backoff=60_000,
    max_backoff=15 * 60_000,
    time_limit=15 * 60_000,
)
async def send_deadline_reminders() -> None:
    """Idempotent: a reminder is recorded under a unique key with its e-mail and push in
    one transaction, so a replay or two workers at once send nothing twice. A database
    error is retried, and the next sweep enqueues it again anyway."""
    sent = await send_all_due(base_url=current_settings().base_url)
    if sent:
        log.info("rappels de date limite : %s envoyés", sent)
