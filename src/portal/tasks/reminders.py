"""The daily low-balance check actor: one message per structure, carrying its id."""

from __future__ import annotations

import logging

import dramatiq

from portal.context import current_settings
from portal.tasks import broker as _broker  # noqa: F401  (the broker is set before any actor)

log = logging.getLogger(__name__)


class UnknownStructure(LookupError):
    """The structure of a check message no longer exists (not retried)."""


@dramatiq.actor(
    queue_name="reminders",
    max_retries=3,
    min_backoff=60_000,
    max_backoff=15 * 60_000,
    time_limit=15 * 60_000,
    throws=(UnknownStructure,),
)
async def check_low_balances(structure_id: int) -> None:
    """E-mail the families of the structure whose estimated balance just fell below their
    threshold (idempotent: a family is e-mailed once per fall, whatever the replays).

    Throws UnknownStructure for a deleted structure (not retried); a database error is
    retried, and the sweep enqueues the structure again until its day is recorded.
    """
    from portal.domain.reminders.service import NotFound
    from portal.domain.reminders.service import check_low_balances as check

    try:
        outcome = await check(structure_id, base_url=current_settings().base_url)
    except NotFound as exc:
        raise UnknownStructure(structure_id) from exc
    log.info(
        "soldes bas : structure %s, %s familles vérifiées, %s alertes, %s retours au-dessus",
        structure_id,
        outcome.checked,
        outcome.alerted,
        outcome.recovered,
    )
