"""The nightly transmission actor: one message per structure, carrying its id."""

from __future__ import annotations

import logging

import dramatiq

from portal.context import current_settings
from portal.domain.transmission.service import StructureNotFound, run_transmission
from portal.tasks import broker as _broker  # noqa: F401  (the broker is set before any actor)

log = logging.getLogger(__name__)


class UnknownStructure(LookupError):
    """The structure of a transmission message no longer exists (not retried)."""


@dramatiq.actor(
    queue_name="transmission",
    max_retries=3,
    min_backoff=60_000,
    max_backoff=15 * 60_000,
    time_limit=30 * 60_000,
    throws=(UnknownStructure,),
)
async def transmit_structure(structure_id: int) -> None:
    """Run the structure's nightly transmission (idempotent: a replay adds nothing).

    Throws UnknownStructure (expected, not retried) for a deleted structure; any other
    error (database, export folder) is retried up to 3 times, and an unfinished night is
    caught up by the sweep since `last_transmission_at` only moves at the end.
    """
    try:
        report = await run_transmission(structure_id, settings=current_settings())
    except StructureNotFound as exc:
        raise UnknownStructure(structure_id) from exc
    log.info("transmission : %s", report.summary())
