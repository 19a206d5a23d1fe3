"""The booking-period allocation actor: one message per period, carrying its id."""

from __future__ import annotations

import logging

import dramatiq

from portal.context import current_settings
from portal.tasks import broker as _broker  # noqa: F401  (the broker is set before any actor)

log = logging.getLogger(__name__)


class UnknownPeriod(LookupError):
    """The period of an allocation message no longer exists (not retried)."""


@dramatiq.actor(
    queue_name="periods",
    max_retries=5,
    min_backoff=30_000,
    max_backoff=10 * 60_000,
    time_limit=30 * 60_000,
    throws=(UnknownPeriod,),
)
async def allocate_period(period_id: int) -> None:
    """Allocate a period whose window ended (idempotent: a rerun after a crash finishes the
    days left and queues each family's message once).

    Throws UnknownPeriod for a deleted period (not retried); a database error is retried,
    and the sweep enqueues the period again until it is recorded as allocated.
    """
    from portal.domain.periods.allocate import NotDue, NotFound
    from portal.domain.periods.allocate import allocate_period as allocate

    try:
        outcome = await allocate(period_id, base_url=current_settings().base_url)
    except NotFound as exc:
        raise UnknownPeriod(period_id) from exc
    except NotDue:
        log.info("période %s : fenêtre pas encore terminée", period_id)
        return
    log.info(
        "période %s : %s acceptées, %s en liste d'attente, %s refusées, %s e-mails",
        period_id,
        outcome.accepted,
        outcome.waitlisted,
        outcome.refused,
        outcome.families_told,
    )
