"""The e-mail relay actor, and `wake_outbox()`: what a commit that queued an e-mail runs.

Importing this module registers `wake_outbox` as the outbox's relay waker, which
`queue_email()` puts on its transaction's after-commit work.
"""

from __future__ import annotations

import dramatiq

from portal.context import current_settings
from portal.domain.outbox import service as outbox_service
from portal.tasks import broker as _broker  # noqa: F401  (the broker is set before any actor)
from portal.tasks.broker import enqueue


@dramatiq.actor(
    queue_name="outbox",
    max_retries=5,
    min_backoff=10_000,
    max_backoff=300_000,
    # A night's reports for thousands of families take a minute or so over persistent
    # connections; the limit leaves room for a slow mail server.
    time_limit=30 * 60_000,
)
async def relay_outbox() -> None:
    """Send every due e-mail of the outbox.

    Never raises for a mail-server error (recorded on the row, retried with backoff by a
    later relay); raises on database errors, which Dramatiq retries (max_retries=5) and
    the minute sweep catches up anyway. One relay runs at a time (a lease in the database:
    a second one returns at once, the sweep starts none); two at once would still be safe,
    rows are claimed. Killed by its time limit (30 min), its claimed rows are taken back
    after the sending lease, and its relay lease expires.
    """
    await outbox_service.relay_exclusively(current_settings())


async def wake_outbox() -> None:
    """Ask a relay to run now; never raises (the sweep finds the rows if this is lost)."""
    await enqueue(relay_outbox)


outbox_service.use_relay_waker(wake_outbox)
