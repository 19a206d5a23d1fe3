"""Day generation, opening, capacities and the waitlist promotion they trigger."""

from __future__ import annotations

from datetime import date

import pytest

from portal.domain.form_fields import FormError
from portal.domain.staff import activities
from portal.domain.staff.schedule import Closure, Schedule
from portal.domain.staff.service import NotFound
from portal.tables import ActivityDay, AuditLog, Movement, OutboxEmail, Reservation
from tests.conftest import Database
from tests.factories import actor, make_activity, make_days, make_staff, make_structure, make_world

# Wednesdays of May 2027 are 5, 12, 19 and 26; Thursday 6 May 2027 is Ascension Day.
MAY_2027 = Schedule(date(2027, 5, 1), date(2027, 5, 31), frozenset({2, 3}))


async def _dates(activity_id: int) -> list[date]:
    rows = await ActivityDay.select(ActivityDay.day).where(ActivityDay.activity == activity_id)
    return sorted(r["day"] for r in rows)


async def test_generation_skips_holidays_and_closures_and_is_idempotent(db: Database) -> None:
    structure = await make_structure()
    activity = await make_activity(structure, capacity=12, waitlist=3)
    agent = await make_staff("agent", structure)
    schedule = Schedule(
        MAY_2027.first, MAY_2027.last, MAY_2027.weekdays,
        (Closure(date(2027, 5, 26), date(2027, 5, 27)),),
    )  # fmt: skip
    [kept] = await make_days(activity, date(2027, 5, 5))
    await ActivityDay.update({ActivityDay.is_open: False, ActivityDay.capacity: 4}).where(
        ActivityDay.id == kept.id
    )

    first = await activities.generate_days(actor(agent), structure.id, activity.id, schedule)

    assert first.holidays == (date(2027, 5, 6),)  # Ascension
    assert first.closed == (date(2027, 5, 26), date(2027, 5, 27))
    assert first.existing == (date(2027, 5, 5),)
    assert first.created == (
        date(2027, 5, 12), date(2027, 5, 13), date(2027, 5, 19), date(2027, 5, 20),
    )  # fmt: skip
    assert await _dates(activity.id) == sorted({date(2027, 5, 5), *first.created})
    untouched = await ActivityDay.objects().get(ActivityDay.id == kept.id)
    assert untouched is not None and (untouched.is_open, untouched.capacity) == (False, 4)
    created = await ActivityDay.objects().get(ActivityDay.day == date(2027, 5, 12))
    assert created is not None
    assert (created.capacity, created.waitlist_capacity, created.is_open) == (12, 3, True)

    again = await activities.generate_days(actor(agent), structure.id, activity.id, schedule)
    assert again.created == ()
    assert await _dates(activity.id) == sorted({date(2027, 5, 5), *first.created})
    assert await AuditLog.count().where(AuditLog.action == "days.generate") == 1


async def test_capacity_raise_promotes_the_waitlist_in_order(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    first, second = world.waitlisted

    promoted = await activities.set_day_capacity(actor(agent), world.sid, world.full_day.id, 3, 2)

    assert len(promoted) == 1
    day = await ActivityDay.objects().get(ActivityDay.id == world.full_day.id)
    assert day is not None
    assert (day.capacity, day.accepted_count, day.waitlisted_count) == (3, 3, 1)
    promoted_row = await Reservation.objects().get(Reservation.id == first.id)
    assert promoted_row is not None and promoted_row.status == "accepted"
    still = await Reservation.objects().get(Reservation.id == second.id)
    assert still is not None and (still.status, still.waitlist_rank) == ("waitlisted", 1)
    movement = await Movement.objects().get(Movement.id == promoted[0])
    assert movement is not None
    assert (movement.kind, movement.outcome, movement.actor) == ("promotion", "accepted", "staff")
    # The family is told at once: the promotion e-mail is in the outbox.
    assert await OutboxEmail.count().where(OutboxEmail.dedupe_key == f"promotion:{promoted[0]}")
    actions = {e.action for e in await AuditLog.objects()}
    assert {"day.capacity", "day.promote"} <= actions


async def test_capacity_cannot_go_below_accepted_places(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)

    with pytest.raises(FormError) as caught:
        await activities.set_day_capacity(actor(agent), world.sid, world.full_day.id, 1, 2)

    assert "2 place(s) sont déjà acceptées" in caught.value.errors[0]
    day = await ActivityDay.objects().get(ActivityDay.id == world.full_day.id)
    assert day is not None and day.capacity == 2
    assert await AuditLog.count() == 0


async def test_open_close_and_scope(db: Database) -> None:
    world = await make_world()
    elsewhere = await make_world("Mairie de Loinville", prefix="b")
    agent = await make_staff("agent", world.structure)

    await activities.set_day_open(actor(agent), world.sid, world.full_day.id, False)
    day = await ActivityDay.objects().get(ActivityDay.id == world.full_day.id)
    assert day is not None and not day.is_open
    with pytest.raises(NotFound):
        await activities.set_day_open(actor(agent), world.sid, elsewhere.full_day.id, False)
    with pytest.raises(NotFound):
        await activities.generate_days(actor(agent), world.sid, elsewhere.activity.id, MAY_2027)
    assert await ActivityDay.count().where(ActivityDay.activity == elsewhere.activity.id) == 2
