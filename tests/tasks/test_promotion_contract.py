"""The booking service's promotion, through `queue_promotion_emails` and the outbox, with the
broker down: the family is told once the relay runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from portal import clock
from portal.db import write_transaction
from portal.domain.booking.apply import promote_waitlist
from portal.domain.outbox.service import relay_due
from portal.domain.transmission.rules import short_date
from portal.settings import Settings
from portal.tables import ActivityDay, OutboxEmail, Reservation
from portal.tasks import broker as brokers
from portal.tasks.outbox import wake_outbox
from tests.conftest import Database, SmtpSwitch, mail_text
from tests.factories import make_activity, make_days, make_family, make_structure


@pytest.fixture
def broker_down() -> Iterator[None]:
    brokers.configure_broker("redis://127.0.0.1:1/0")
    yield
    brokers.configure_broker(None)


async def test_promoted_family_is_told_once(
    db: Database, mail_settings: Settings, smtp_switch: SmtpSwitch, broker_down: None
) -> None:
    structure = await make_structure("Mairie de CarteVille", "carteville")
    alsh = await make_activity(structure, "ALSH 6-12 - Mercredi Journée", capacity=1, waitlist=5)
    wednesday = clock.local_today("Europe/Paris") + timedelta(days=14)
    [day] = await make_days(alsh, wednesday)
    setup = await make_family(structure=structure, emails="jp@example.fr")
    paolo = setup.people[0]
    await Reservation(
        family=setup.family.id,
        person=paolo.id,
        activity_day=day.id,
        status="waitlisted",
        waitlist_rank=1,
    ).save()
    # The accepted child's place was just freed: one on the waitlist, none accepted.
    await ActivityDay.update(
        {ActivityDay.waitlisted_count: 1, ActivityDay.accepted_count: 0}
    ).where(ActivityDay.id == day.id)

    async with write_transaction():
        promoted = await promote_waitlist(day.id, clock.utcnow())
    assert len(promoted) == 1
    await wake_outbox()  # the broker is down: nothing raised, the row waits

    [row] = await OutboxEmail.objects()
    assert (row.dedupe_key, row.status) == (f"promotion:{promoted[0]}", "pending")
    assert (await relay_due(mail_settings)).sent == 1
    assert (await relay_due(mail_settings)).sent == 0
    [message] = await smtp_switch.sink.wait_for(1)
    assert (
        f"Bonne nouvelle : la réservation de Paolo pour « ALSH 6-12 - Mercredi Journée » du "
        f"{short_date(wednesday)} a été acceptée (elle était en liste d'attente)."
    ) in " ".join(mail_text(message).split())
