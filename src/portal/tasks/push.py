"""The web-push relay actor, and `wake_push()`: what a commit that queued a push runs.

Importing this module registers `wake_push` as the push outbox's waker.
"""

from __future__ import annotations

import dramatiq

from portal.context import current_settings
from portal.domain.push import service as push_service
from portal.tasks import broker as _broker  # noqa: F401  (the broker is set before any actor)
from portal.tasks.broker import enqueue


@dramatiq.actor(
    queue_name="push",
    max_retries=5,
    min_backoff=10_000,
    max_backoff=300_000,
    time_limit=10 * 60_000,
)
async def relay_push() -> None:
    """Send every due push message.

    Never raises for a push service's answer (recorded on the row: sent, retried later
    with backoff, or the subscription dropped on 404/410); raises on database errors,
    which Dramatiq retries and the minute sweep catches up anyway. Two relays at once are
    safe: rows are claimed by a conditional UPDATE.
    """
    await push_service.relay_due(current_settings())


async def wake_push() -> None:
    await enqueue(relay_push)


push_service.use_push_waker(wake_push)
