"""Booking on a family's behalf: every rule, an explicit audited override, "par la structure"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.on_behalf import Booker, Override
from portal.domain.booking.scope import BookingError, load_scope
from portal.domain.booking.states import DraftAction
from portal.domain.staff import on_behalf
from portal.domain.staff.service import Actor, NotFound
from portal.tables import ActivityDay, AuditLog, Movement, Person, Reservation
from tests.conftest import Database
from tests.factories import World, actor, make_days, make_staff, make_world, today


def after(entry: AuditLog) -> dict[str, Any]:
    value = entry.after
    return dict(json.loads(value) if isinstance(value, str) else value)


def basket_of(person: Person, day: ActivityDay, action: DraftAction = DraftAction.BOOK) -> Basket:
    basket = Basket()
    basket.put(BasketItem(int(person.id), int(day.activity), int(day.id), day.day, action))
    return basket


async def _world() -> tuple[World, Actor]:
    world = await make_world()
    clerk = await make_staff("agent-a", world.structure)
    return world, actor(clerk)


async def test_a_full_day_is_refused_unless_the_clerk_overrides_capacity(db: Database) -> None:
    world, clerk = await _world()
    tom = world.other.people[1]
    fid = int(world.other.family.id)

    [refused] = await on_behalf.apply_for_family(
        clerk, world.sid, fid, basket_of(tom, world.full_day)
    )
    assert refused.outcome.value == "refused"  # place and waitlist taken: the family's rule
    assert await AuditLog.count().where(AuditLog.action == "booking.override") == 0

    choice = on_behalf.OverrideChoice.parse(False, True, "Appel du père, accord de la direction")
    [accepted] = await on_behalf.apply_for_family(
        clerk, world.sid, fid, basket_of(tom, world.full_day), choice
    )
    assert accepted.outcome.value == "accepted"
    day = await ActivityDay.objects().get(ActivityDay.id == world.full_day.id)
    assert day is not None
    assert (day.capacity, day.accepted_count) == (3, 3)  # one place added, CHECK still holds
    row = await Reservation.objects().get(Reservation.id == accepted.reservation_id)
    assert row is not None and row.created_by == "staff"
    movement = await Movement.objects().get(Movement.reservation == accepted.reservation_id)
    assert movement is not None and movement.actor == "staff"
    entry = await AuditLog.objects().get(AuditLog.action == "booking.override")
    assert entry is not None
    assert entry.target_table == "reservation" and entry.target_id == accepted.reservation_id
    assert after(entry)["dérogation"] == "au-delà de la capacité"
    assert after(entry)["motif"] == "Appel du père, accord de la direction"
    assert entry.staff_login == "agent-a"


async def test_a_late_day_needs_the_deadline_override(db: Database) -> None:
    world, clerk = await _world()
    [today_day] = await make_days(world.activity, today())  # deadline: 2 days before
    lea = world.other.people[0]
    fid = int(world.other.family.id)

    [late] = await on_behalf.apply_for_family(clerk, world.sid, fid, basket_of(lea, today_day))
    assert (late.outcome.value, late.remark) == ("rejected", "Hors délai")

    choice = on_behalf.OverrideChoice.parse(True, False, "Demande par téléphone")
    [done] = await on_behalf.apply_for_family(
        clerk, world.sid, fid, basket_of(lea, today_day), choice
    )
    assert done.outcome.value == "accepted"
    assert [o.value for o in done.overridden] == ["deadline"]
    # Cancelling it again is late too: allowed under the same override, and audited.
    [cancelled] = await on_behalf.apply_for_family(
        clerk, world.sid, fid, basket_of(lea, today_day, DraftAction.CANCEL), choice
    )
    assert cancelled.outcome.value == "cancelled"
    entries = await AuditLog.objects().where(AuditLog.action == "booking.override")
    assert [after(e)["demande"] for e in entries] == ["réservation", "annulation"]
    summaries = await AuditLog.objects().where(AuditLog.action == "booking.on_behalf")
    assert len(summaries) == 2 and summaries[0].target_id == fid


async def test_an_override_needs_a_reason_and_the_family_of_the_structure(db: Database) -> None:
    world, clerk = await _world()
    elsewhere = await make_world("Mairie de Loinville", prefix="b")
    with pytest.raises(BookingError, match="motif"):
        on_behalf.OverrideChoice.parse(True, False, "   ")
    assert on_behalf.OverrideChoice.parse(False, False, "sans objet").reason == ""
    with pytest.raises(NotFound):
        await on_behalf.apply_for_family(
            clerk,
            world.sid,
            int(elsewhere.other.family.id),
            basket_of(elsewhere.other.people[1], elsewhere.full_day),
        )
    scope = await load_scope(int(world.family.family.id))
    with pytest.raises(BookingError):  # a parent never overrides
        scope.acting(Booker.PARENT, Override(deadlines=True))
    assert scope.acting(Booker.STAFF, Override(capacity=True)).override.capacity
    assert not scope.override.capacity  # the cached scope itself is unchanged
