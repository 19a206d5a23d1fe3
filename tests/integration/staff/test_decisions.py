"""Staff decisions on both databases: counters, ranks, movements, tracking, audit."""

from __future__ import annotations

import pytest

from portal.domain.booking.scope import load_scope
from portal.domain.booking.tracking import TrackingFilters, tracking
from portal.domain.staff import decisions
from portal.domain.staff.service import NotFound
from portal.tables import ActivityDay, AuditLog, Movement, Reservation
from tests.conftest import Database
from tests.factories import actor, make_staff, make_world


async def _day(day_id: int) -> ActivityDay:
    row = await ActivityDay.objects().get(ActivityDay.id == day_id)
    assert row is not None
    return row


async def _reservation(reservation_id: int) -> Reservation:
    row = await Reservation.objects().get(Reservation.id == reservation_id)
    assert row is not None
    return row


async def test_accepting_a_pending_request_reaches_tracking_and_the_next_report(
    db: Database,
) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    request = world.pending[0]

    decided = await decisions.decide(actor(agent), world.sid, request.id, accept=True)

    assert decided.outcome == "accepted"
    assert (await _reservation(request.id)).status == "accepted"
    assert (await _day(world.decision_day.id)).accepted_count == 1
    movement = await Movement.objects().get(Movement.id == decided.movement_id)
    assert movement is not None
    assert (movement.kind, movement.outcome, movement.actor) == ("decision", "accepted", "staff")
    assert movement.transmitted_at is None and movement.reported_at is None
    scope = await load_scope(int(world.other.family.id))
    lines = (await tracking(scope, TrackingFilters())).lines
    line = next(x for x in lines if x.reservation_id == request.id)
    assert line.state_label == "Acceptée, non transmise"
    [entry] = (
        await AuditLog.objects().where(AuditLog.action == "decision.accept").output(load_json=True)
    )
    assert entry.staff_login == "agent" and entry.target_id == request.id
    assert entry.before["status"] == "pending" and entry.after["status"] == "accepted"


async def test_no_place_left_refuses_the_acceptance_and_writes_nothing(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    await decisions.decide(actor(agent), world.sid, world.pending[0].id, accept=True)

    with pytest.raises(decisions.DecisionError, match="Plus de place"):
        await decisions.decide(actor(agent), world.sid, world.pending[1].id, accept=True)

    assert (await _reservation(world.pending[1].id)).status == "pending"
    assert (await _day(world.decision_day.id)).accepted_count == 1
    assert await Movement.count().where(Movement.reservation == world.pending[1].id) == 0
    assert await AuditLog.count() == 1  # only the first decision


async def test_accepting_a_waitlisted_request_moves_it_and_renumbers(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    # Staff may accept a waitlisted request out of order once a place exists.
    await ActivityDay.update({ActivityDay.capacity: 3}).where(ActivityDay.id == world.full_day.id)
    second = world.waitlisted[1]

    await decisions.decide(actor(agent), world.sid, second.id, accept=True)

    day = await _day(world.full_day.id)
    assert (day.accepted_count, day.waitlisted_count) == (3, 1)
    assert (await _reservation(second.id)).waitlist_rank is None
    assert (await _reservation(world.waitlisted[0].id)).waitlist_rank == 1


async def test_refusing_a_waitlisted_request_closes_the_rank_gap(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    first, second = world.waitlisted

    decided = await decisions.decide(actor(agent), world.sid, first.id, accept=False)

    assert decided.outcome == "refused"
    refused = await _reservation(first.id)
    assert (refused.status, refused.waitlist_rank) == ("refused", None)
    assert (await _reservation(second.id)).waitlist_rank == 1
    day = await _day(world.full_day.id)
    assert (day.accepted_count, day.waitlisted_count) == (2, 1)
    movement = await Movement.objects().get(Movement.reservation == first.id)
    assert movement is not None and (movement.kind, movement.outcome) == ("decision", "refused")
    scope = await load_scope(int(world.family.family.id))
    line = next(
        x for x in (await tracking(scope, TrackingFilters())).lines if x.reservation_id == first.id
    )
    assert line.status == "refused"


async def test_a_request_decided_twice_or_of_another_structure(db: Database) -> None:
    world = await make_world()
    elsewhere = await make_world("Mairie de Loinville", prefix="b")
    agent = await make_staff("agent", world.structure)
    await decisions.decide(actor(agent), world.sid, world.pending[0].id, accept=False)

    with pytest.raises(decisions.DecisionError, match="déjà été traitée"):
        await decisions.decide(actor(agent), world.sid, world.pending[0].id, accept=True)
    with pytest.raises(NotFound):
        await decisions.decide(actor(agent), world.sid, elsewhere.pending[0].id, accept=True)
    assert (await _reservation(elsewhere.pending[0].id)).status == "pending"


async def test_waiting_requests_are_grouped_per_day_with_places(db: Database) -> None:
    world = await make_world()
    groups = await decisions.waiting_requests(world.sid)
    by_day = {g.day_id: g for g in groups}
    full = by_day[world.full_day.id]
    assert [r.reservation_id for r in full.requests] == [w.id for w in world.waitlisted]
    assert (full.capacity, full.accepted, full.places_left) == (2, 2, 0)
    assert {r.status for r in by_day[world.decision_day.id].requests} == {"pending"}


async def test_accepting_with_an_extra_place_gives_it_to_this_request(db: Database) -> None:
    world = await make_world()
    agent = await make_staff("agent", world.structure)
    first, second = world.waitlisted

    decided = await decisions.decide(
        actor(agent), world.sid, second.id, accept=True, extra_place=True
    )

    assert decided.message.endswith("La journée passe à 3 places.")
    day = await _day(world.full_day.id)
    assert (day.capacity, day.accepted_count, day.waitlisted_count) == (3, 3, 1)
    assert (await _reservation(second.id)).status == "accepted"
    assert (await _reservation(first.id)).waitlist_rank == 1  # not promoted: still waiting
    [entry] = await AuditLog.objects().output(load_json=True)
    assert entry.after["capacity"] == 3
    # With a place free already, no place is added.
    await ActivityDay.update({ActivityDay.capacity: 5}).where(ActivityDay.id == day.id)
    await decisions.decide(actor(agent), world.sid, first.id, accept=True, extra_place=True)
    assert (await _day(world.full_day.id)).capacity == 5
