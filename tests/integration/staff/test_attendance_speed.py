"""Attendance at speed: « Tous présents », the times seen, a child who came unbooked."""

from __future__ import annotations

from datetime import time

import pytest

from portal.domain.staff import attendance_speed as speed
from portal.domain.staff.attendance import attendance_list
from portal.domain.staff.service import NotFound
from portal.tables import ActivityDay, AuditLog, Movement, Reservation
from tests.conftest import Database
from tests.factories import (
    actor,
    enroll,
    make_activity,
    make_days,
    make_staff,
    make_world,
    reserve,
    today,
)


async def test_all_present_then_an_exception(db: Database) -> None:
    world = await make_world()
    clerk = actor(await make_staff("agent-a", world.structure))
    day = world.full_day.day
    await Reservation.update({Reservation.absent: True}).where(
        Reservation.id == world.accepted[0].id
    )
    assert await speed.sheet_state(world.sid, world.activity.id, day) is None
    assert await speed.all_present(clerk, world.sid, world.activity.id, day) == 1
    listing = await attendance_list(world.sid, world.activity.id, day)
    assert listing.present_count == 2
    state = await speed.sheet_state(world.sid, world.activity.id, day)
    assert state is not None and state.taken_by == "agent-a"
    assert await speed.all_present(clerk, world.sid, world.activity.id, day) == 0  # again
    assert await AuditLog.count().where(AuditLog.action == "attendance.all_present") == 2
    with pytest.raises(NotFound):  # another structure's activity
        other = await make_world("Mairie de Loinville", prefix="b")
        await speed.all_present(clerk, world.sid, other.activity.id, other.full_day.day)


async def test_an_unexpected_child_is_added_as_a_structure_booking_even_on_a_full_day(
    db: Database,
) -> None:
    world = await make_world()
    clerk = actor(await make_staff("agent-a", world.structure))
    day = world.full_day.day
    tom = world.other.people[1]  # enrolled, no request that day (the day is full)
    names = [c.name for c in await speed.unexpected_candidates(world.sid, world.activity.id, day)]
    assert names == [f"{tom.last_name} {tom.first_name}"]
    reservation_id = await speed.add_unexpected(clerk, world.sid, world.activity.id, day, tom.id)
    row = await Reservation.objects().get(Reservation.id == reservation_id)
    assert row is not None and (row.status, row.created_by) == ("accepted", "staff")
    counters = await ActivityDay.objects().get(ActivityDay.id == world.full_day.id)
    assert counters is not None and (counters.capacity, counters.accepted_count) == (3, 3)
    movement = await Movement.objects().get(Movement.reservation == reservation_id)
    assert movement is not None and movement.actor == "staff"
    with pytest.raises(speed.AttendanceError):  # already there
        await speed.add_unexpected(clerk, world.sid, world.activity.id, day, tom.id)


async def test_times_seen_for_a_time_entry_activity(db: Database) -> None:
    world = await make_world()
    clerk = actor(await make_staff("agent-a", world.structure))
    care = await make_activity(
        world.structure, "Accueil du soir", time_entry=True, start=time(16, 30), end=time(18, 30),
        arrivals="16:30", departures="17:30, 18:30",
    )  # fmt: skip
    [care_day] = await make_days(care, today())
    await enroll(world.family.people, care)
    booked = await reserve(world.family, world.family.people[0], care_day, "accepted")
    [line] = await speed.time_lines(world.sid, care.id, today())
    assert line.arrival is None
    with pytest.raises(speed.AttendanceError):
        await speed.record_times(
            clerk, world.sid, care.id, today(), {booked.id: (time(18, 0), time(17, 0))}
        )
    changed = await speed.record_times(
        clerk, world.sid, care.id, today(), {booked.id: (time(16, 40), time(18, 5))}
    )
    assert changed == 1
    [line] = await speed.time_lines(world.sid, care.id, today())
    assert (line.arrival, line.departure, line.minutes) == (time(16, 40), time(18, 5), 85)
    amalia = world.family.people[1]
    with pytest.raises(speed.AttendanceError):  # times are needed for this activity
        await speed.add_unexpected(clerk, world.sid, care.id, today(), amalia.id)
    added = await speed.add_unexpected(
        clerk, world.sid, care.id, today(), amalia.id, time(16, 30), time(17, 10)
    )
    row = await Reservation.objects().get(Reservation.id == added)
    assert row is not None and row.quantity == 2  # two started half-hours
