"""The kitchen sheet from the register and the family files; its e-mail once per day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import clock
from portal.domain.booking import deadlines
from portal.domain.kitchen import service
from portal.tables import AbsenceDeclaration, ChildFile, OutboxEmail, Reservation
from tests.conftest import Database
from tests.factories import actor, make_staff, make_world


async def test_the_sheet_and_its_email_at_the_booking_deadline(db: Database) -> None:
    world = await make_world()
    clerk = actor(await make_staff("agent-a", world.structure))
    paolo = world.family.people[0]
    await ChildFile(
        person=paolo.id, school="École Jules Ferry", diet="sans_porc", allergies="arachide",
        pai=True,
    ).save()  # fmt: skip
    day = world.full_day.day

    sheet = await service.kitchen_sheet(world.sid, day)
    [numbers] = sheet.activities
    assert numbers.total == 2  # the accepted reservations only (not the waitlist)
    assert numbers.by_school == (("École Jules Ferry", 1), ("École non renseignée", 1))
    assert numbers.by_diet == (("Repas standard", 1), ("Sans porc", 1))
    assert (numbers.allergies, numbers.pai) == (1, 1)

    closes = deadlines.closes_at(
        deadlines.parse_rule(str(world.activity.booking_deadline)), day, clock.zone("Europe/Paris")
    )
    assert (
        await service.send_due_sheets(world.sid, closes + timedelta(minutes=1)) == []
    )  # no address
    with pytest.raises(service.KitchenError):
        await service.save_settings(clerk, world.sid, "pas une adresse")
    await service.save_settings(clerk, world.sid, "cuisine@example.fr")
    assert await service.structures_with_kitchen() == [world.sid]

    assert await service.send_due_sheets(world.sid, closes - timedelta(minutes=1)) == []
    assert await service.send_due_sheets(world.sid, closes + timedelta(minutes=1)) == [day]
    assert await service.send_due_sheets(world.sid, closes + timedelta(minutes=2)) == []
    [email] = await OutboxEmail.objects().where(OutboxEmail.dedupe_key.like("kitchen:%"))
    assert email.to_addresses == "cuisine@example.fr"
    assert "Sans porc 1" in email.body_text and "DUPONT" in email.body_text


async def test_a_child_declared_absent_is_not_counted(db: Database) -> None:
    world = await make_world()
    paolo, amalia = world.accepted
    await AbsenceDeclaration(
        family=world.family.family.id, reservation=paolo.id, person=paolo.person,
        note="Malade",
    ).save()  # fmt: skip
    sheet = await service.kitchen_sheet(world.sid, world.full_day.day)
    [numbers] = sheet.activities
    assert (numbers.total, numbers.absences) == (1, 1)
    # A decision keeps it out: justified or not, the child does not come.
    await Reservation.update({Reservation.absent: True}).where(Reservation.id == amalia.id)
    [numbers] = (await service.kitchen_sheet(world.sid, world.full_day.day)).activities
    assert (numbers.total, numbers.absences) == (0, 2)
