"""Deadline reminders, run by the minute sweep: sent once, within the lead time the parent
chose, only for a week with bookable days and nothing booked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from portal.domain.channels import service as channels
from portal.domain.channels.rules import Choice, Kind
from portal.domain.deadline_reminders.service import send_all_due, send_due_reminders
from portal.tables import DeadlineReminder, OutboxEmail, Reservation
from tests.conftest import Database
from tests.factories import FamilySetup, enroll, make_activity, make_days, make_family

BASE = "http://portail.test"
WEEK = date(2026, 12, 14)
# Canteen booked by the Thursday before at 10:00: Thursday 10/12 10:00 Paris = 09:00 UTC.
DEADLINE = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


async def _book(setup: FamilySetup, person: int, day_id: int, status: str = "accepted") -> None:
    await Reservation(
        family=setup.family.id, person=setup.people[person].id, activity_day=day_id, status=status
    ).save()


async def _canteen() -> tuple[FamilySetup, list[int], int]:
    setup = await make_family()
    canteen = await make_activity(
        setup.structure, "Restauration Scolaire", deadline="prevweek:thu@10:00"
    )
    await enroll(setup.people, canteen)
    [past] = await make_days(canteen, date(2026, 12, 1))
    days = await make_days(canteen, *(WEEK + timedelta(days=n) for n in (0, 1, 3, 4)))
    # Paolo eats at the canteen (booked lately); Amalia never does: no reminder for her.
    await _book(setup, 0, int(past.id))
    return setup, [int(d.id) for d in days], int(setup.structure.id)


async def test_reminded_once_within_the_lead_time(db: Database) -> None:
    setup, _, structure_id = await _canteen()
    too_early = DEADLINE - timedelta(hours=49)
    assert await send_due_reminders(structure_id, base_url=BASE, now=too_early) == 0
    now = DEADLINE - timedelta(hours=47)
    assert await send_due_reminders(structure_id, base_url=BASE, now=now) == 1
    assert await send_all_due(base_url=BASE, now=now + timedelta(minutes=5)) == 0
    [mail] = await OutboxEmail.select()
    assert mail["to_addresses"] == "parent@example.fr"
    assert "Paolo" in mail["subject"] and "Restauration Scolaire" in mail["subject"]
    assert (
        "Vous n'avez rien réservé pour la semaine du 14/12 : vous avez jusqu'à jeudi 10:00"
        in mail["body_text"]
    )
    [sent] = await DeadlineReminder.select()
    assert sent["person"] == setup.people[0].id


async def test_no_reminder_when_the_week_has_a_booking_or_nothing_bookable(
    db: Database,
) -> None:
    setup, days, structure_id = await _canteen()
    await _book(setup, 0, days[2], status="waitlisted")
    now = DEADLINE - timedelta(hours=1)
    assert await send_due_reminders(structure_id, base_url=BASE, now=now) == 0
    assert await send_due_reminders(structure_id, base_url=BASE, now=DEADLINE) == 0


async def test_the_lead_time_and_channels_are_the_parents(db: Database) -> None:
    setup, _, structure_id = await _canteen()
    account_id = int(setup.account.id)
    await channels.save_choices(account_id, [Choice(Kind.DEADLINE_REMINDER)], 120)
    now = DEADLINE - timedelta(hours=100)
    assert await send_due_reminders(structure_id, base_url=BASE, now=now) == 1

    other, _, other_structure = await _canteen_elsewhere()
    await channels.save_choices(
        int(other.account.id), [Choice(Kind.DEADLINE_REMINDER, email=False, push=False)], 48
    )
    assert await send_due_reminders(other_structure, base_url=BASE, now=DEADLINE) == 0
    assert (
        await send_due_reminders(other_structure, base_url=BASE, now=DEADLINE - timedelta(hours=1))
        == 0
    )


async def _canteen_elsewhere() -> tuple[FamilySetup, list[int], int]:
    from tests.factories import make_structure

    structure = await make_structure("Mairie d'Ailleurs")
    setup = await make_family(login="ailleurs", structure=structure)
    canteen = await make_activity(structure, "Cantine", deadline="prevweek:thu@10:00")
    await enroll(setup.people, canteen)
    [past] = await make_days(canteen, date(2026, 12, 1))
    days = await make_days(canteen, WEEK)
    await _book(setup, 0, int(past.id))
    return setup, [int(d.id) for d in days], int(structure.id)
