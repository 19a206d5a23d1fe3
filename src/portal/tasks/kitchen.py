"""The kitchen e-mail actor: one message per structure, carrying its id."""

from __future__ import annotations

import logging

import dramatiq

from portal.tasks import broker as _broker  # noqa: F401  (the broker is set before any actor)

log = logging.getLogger(__name__)


@dramatiq.actor(
    queue_name="reminders",
    max_retries=3,
    min_backoff=60_000,
    max_backoff=15 * 60_000,
    time_limit=5 * 60_000,
)
async def send_kitchen_sheets(structure_id: int) -> None:
    """Queue the kitchen e-mail of each coming day whose booking closed (idempotent: one
    outbox key per structure and day; a replay queues nothing)."""
    from portal.domain.kitchen.service import send_due_sheets

    days = await send_due_sheets(structure_id)
    if days:
        log.info(
            "cuisine : structure %s, effectifs envoyés pour %s",
            structure_id,
            ", ".join(d.isoformat() for d in days),
        )
