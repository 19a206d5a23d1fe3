"""The monthly statement mailing actor: one message per structure, carrying its id."""

from __future__ import annotations

import logging

import dramatiq

from portal.context import current_settings
from portal.tasks import broker as _broker  # noqa: F401  (the broker is set before any actor)

log = logging.getLogger(__name__)


class UnknownStructure(LookupError):
    """The structure of a mailing message no longer exists (not retried)."""


@dramatiq.actor(
    queue_name="reminders",
    max_retries=3,
    min_backoff=60_000,
    max_backoff=15 * 60_000,
    time_limit=30 * 60_000,
    throws=(UnknownStructure,),
)
async def mail_monthly_statements(structure_id: int) -> None:
    """Queue the past month's statement e-mails of the structure when due (idempotent: one
    e-mail per family, wallet and month, whatever the replays).

    Throws UnknownStructure for a deleted structure (not retried); a database error is
    retried, and the sweep enqueues the structure again until its month is recorded.
    """
    from portal.domain.statements.service import NotFound, mail_due_statements

    try:
        outcome = await mail_due_statements(structure_id, base_url=current_settings().base_url)
    except NotFound as exc:
        raise UnknownStructure(structure_id) from exc
    if outcome.month is not None:
        log.info(
            "relevés de %s : structure %s, %s relevés, %s e-mails mis en file",
            outcome.month.key,
            structure_id,
            outcome.statements,
            outcome.queued,
        )
