"""Applying baskets against both databases: outcomes, counters, waitlist, promotion."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time

import pytest

from portal.db import write_transaction
from portal.domain.booking.apply import CounterConflict, apply_basket, claim_counters
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.states import DraftAction
from portal.tables import ActivityDay, Movement, Reservation
from tests.conftest import Database
from tests.factories import (
    FamilySetup,
    enroll,
    make_activity,
    make_days,
    make_family,
    make_structure,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
WEDNESDAY = date(2026, 12, 2)


def book(setup: FamilySetup, day: ActivityDay, person: int = 0, **times: time) -> Basket:
    basket = Basket()
    basket.put(
        BasketItem(
            setup.people[person].id, int(day.activity), day.id, day.day, DraftAction.BOOK, **times
        )
    )
    return basket


async def counters(day: ActivityDay) -> tuple[int, int]:
    row = await ActivityDay.objects().get(ActivityDay.id == day.id)
    assert row is not None
    return row.accepted_count, row.waitlisted_count


async def crowd(n: int, capacity: int, waitlist: int) -> tuple[ActivityDay, list[FamilySetup]]:
    structure = await make_structure()
    activity = await make_activity(structure, capacity=capacity, waitlist=waitlist)
    [day] = await make_days(activity, WEDNESDAY)
    families = []
    for i in range(n):
        setup = await make_family(
            login=f"famille{i}", structure=structure, children=("Enfant",), name=f"FAMILLE{i} X"
        )
        await enroll(setup.people, activity)
        families.append(setup)
    return day, families


async def assert_consistent(day: ActivityDay, capacity: int, waitlist: int, n: int) -> None:
    rows = await Reservation.objects().where(Reservation.activity_day == day.id)
    by_status: dict[str, list[Reservation]] = {}
    for row in rows:
        by_status.setdefault(row.status, []).append(row)
    accepted = len(by_status.get("accepted", []))
    waitlisted = sorted(r.waitlist_rank or 0 for r in by_status.get("waitlisted", []))
    assert accepted == capacity
    assert waitlisted == list(range(1, waitlist + 1))
    assert len(by_status.get("refused", [])) == n - capacity - waitlist
    assert await counters(day) == (accepted, len(waitlisted))
    assert await Movement.count() == n


async def confirm_all_at_once(day: ActivityDay, families: list[FamilySetup]) -> None:
    results = await asyncio.gather(
        *(apply_basket(f.account.id, f.family.id, book(f, day), now=NOW) for f in families)
    )
    assert all(len(r) == 1 for r in results)


async def test_concurrent_confirmations_never_oversell(db: Database) -> None:
    n = 200 if db.kind == "postgresql" else 50
    day, families = await crowd(n, capacity=30, waitlist=10)
    await confirm_all_at_once(day, families)
    await assert_consistent(day, 30, 10, n)


async def test_each_outcome_and_remark(db: Database) -> None:
    structure = await make_structure()
    small = await make_activity(structure, "3-6 ans", capacity=1, waitlist=1)
    music = await make_activity(
        structure,
        "Piano",
        capacity=4,
        waitlist=0,
        needs_decision=True,
        start=time(18),
        end=time(19),
    )
    [day] = await make_days(small, WEDNESDAY)
    [lesson] = await make_days(music, WEDNESDAY)
    families = []
    for i in range(3):
        setup = await make_family(
            login=f"f{i}", structure=structure, children=("A",), name=f"F{i} X"
        )
        await enroll(setup.people, small, music)
        families.append(setup)
    outcomes = []
    for setup in families:
        [result] = await apply_basket(setup.account.id, setup.family.id, book(setup, day), now=NOW)
        outcomes.append((result.outcome, result.remark, result.waitlist_rank))
    assert outcomes == [
        ("accepted", None, None),
        ("waitlisted", "Mise en liste d'attente", 1),
        ("refused", "Non traitée, activité complète", None),
    ]
    [pending] = await apply_basket(
        families[0].account.id, families[0].family.id, book(families[0], lesson), now=NOW
    )
    assert (pending.outcome, pending.remark) == (
        "pending",
        "En attente de traitement par nos services",
    )
    # The piano lesson overlaps nothing here, but the same child twice on one day is refused.
    [twice] = await apply_basket(
        families[0].account.id, families[0].family.id, book(families[0], day), now=NOW
    )
    assert twice.outcome == "unchanged"


async def test_late_booking_and_incompatible_hours(db: Database) -> None:
    structure = await make_structure()
    alsh = await make_activity(structure, "ALSH", start=time(8, 30), end=time(17, 30))
    canteen = await make_activity(
        structure, "Cantine", capacity=None, start=time(11, 30), end=time(13, 30)
    )
    [alsh_day] = await make_days(alsh, WEDNESDAY)
    [canteen_day] = await make_days(canteen, WEDNESDAY)
    setup = await make_family(structure=structure, children=("Paolo",))
    await enroll(setup.people, alsh, canteen)
    await apply_basket(setup.account.id, setup.family.id, book(setup, alsh_day), now=NOW)
    [clash] = await apply_basket(
        setup.account.id, setup.family.id, book(setup, canteen_day), now=NOW
    )
    assert (clash.outcome, clash.remark) == ("rejected", "Horaires incompatibles")
    late_now = datetime(2026, 11, 30, 9, 1, tzinfo=UTC)  # after "2 days before at 10:00" local
    other = await make_family(
        login="autre", structure=structure, children=("Léa",), name="MARTIN S"
    )
    await enroll(other.people, alsh)
    [late] = await apply_basket(
        other.account.id, other.family.id, book(other, alsh_day), now=late_now
    )
    assert (late.outcome, late.remark) == ("rejected", "Hors délai")


async def test_cancelling_promotes_the_first_waitlisted(db: Database) -> None:
    day, families = await crowd(4, capacity=2, waitlist=2)
    for setup in families:
        await apply_basket(setup.account.id, setup.family.id, book(setup, day), now=NOW)
    first = families[0]
    cancel = Basket(
        [BasketItem(first.people[0].id, int(day.activity), day.id, day.day, DraftAction.CANCEL)]
    )
    [result] = await apply_basket(first.account.id, first.family.id, cancel, now=NOW)
    assert result.outcome == "cancelled"
    promoted = await Reservation.objects().get(Reservation.person == families[2].people[0].id)
    assert promoted is not None and promoted.status == "accepted" and promoted.waitlist_rank is None
    still = await Reservation.objects().get(Reservation.person == families[3].people[0].id)
    assert still is not None and still.status == "waitlisted" and still.waitlist_rank == 1
    assert await counters(day) == (2, 1)
    movement = await Movement.objects().get(Movement.kind == "promotion")
    assert movement is not None and movement.family == families[2].family.id


async def test_waitlisted_cancellation_closes_the_gap(db: Database) -> None:
    day, families = await crowd(5, capacity=1, waitlist=3)
    for setup in families:
        await apply_basket(setup.account.id, setup.family.id, book(setup, day), now=NOW)
    second = families[2]  # waitlist rank 2
    cancel = Basket(
        [BasketItem(second.people[0].id, int(day.activity), day.id, day.day, DraftAction.CANCEL)]
    )
    await apply_basket(second.account.id, second.family.id, cancel, now=NOW)
    ranks = {
        r.person: r.waitlist_rank
        for r in await Reservation.objects().where(Reservation.status == "waitlisted")
    }
    assert ranks == {families[1].people[0].id: 1, families[3].people[0].id: 2}
    assert await counters(day) == (1, 2)


async def test_time_entry_quantity_and_another_familys_child(db: Database) -> None:
    structure = await make_structure()
    morning = await make_activity(
        structure,
        "Accueil Matin",
        capacity=None,
        waitlist=0,
        start=time(7, 0),
        end=time(8, 30),
        time_entry=True,
        arrivals="07:00,07:30",
        departures="08:30",
        price_cents=32,
    )
    [day] = await make_days(morning, WEDNESDAY)
    setup = await make_family(structure=structure, children=("Paolo",))
    stranger = await make_family(
        login="autre", structure=structure, children=("Léa",), name="MARTIN S"
    )
    await enroll(setup.people + stranger.people, morning)
    [ok] = await apply_basket(
        setup.account.id,
        setup.family.id,
        book(setup, day, arrival=time(7, 30), departure=time(8, 30)),
        now=NOW,
    )
    assert ok.outcome == "accepted"
    row = await Reservation.objects().get(Reservation.person == setup.people[0].id)
    assert row is not None and row.quantity == 2
    forged = Basket(
        [
            BasketItem(
                stranger.people[0].id,
                morning.id,
                day.id,
                day.day,
                DraftAction.BOOK,
                time(7),
                time(8, 30),
            )
        ]
    )
    [refused] = await apply_basket(setup.account.id, setup.family.id, forged, now=NOW)
    assert refused.outcome == "rejected"
    assert await Reservation.count().where(Reservation.person == stranger.people[0].id) == 0


async def test_unsigned_rules_and_incomplete_file_block_booking(db: Database) -> None:
    from portal.tables import Family
    from tests.factories import add_rules_document

    structure = await make_structure()
    activity = await make_activity(structure)
    [day] = await make_days(activity, WEDNESDAY)
    setup = await make_family(structure=structure, children=("Hugo",))
    await enroll(setup.people, activity)
    await add_rules_document(structure)
    [unsigned] = await apply_basket(setup.account.id, setup.family.id, book(setup, day), now=NOW)
    assert unsigned.outcome == "rejected"
    assert "règlement intérieur" in (unsigned.remark or "")

    from portal.tables import RulesAcknowledgement, RulesDocument

    document = await RulesDocument.objects().first()
    assert document is not None
    await RulesAcknowledgement(
        person=setup.people[0].id, document=document.id, account=setup.account.id,
        signer_name="Claire DURAND", place="Ici",
    ).save()  # fmt: skip
    await Family.update({Family.file_complete: False}).where(Family.id == setup.family.id)
    [incomplete] = await apply_basket(setup.account.id, setup.family.id, book(setup, day), now=NOW)
    assert incomplete.outcome == "rejected"
    assert "dossier" in (incomplete.remark or "").lower()
    await Family.update({Family.file_complete: True}).where(Family.id == setup.family.id)
    [accepted] = await apply_basket(setup.account.id, setup.family.id, book(setup, day), now=NOW)
    assert accepted.outcome == "accepted"
    assert await Reservation.count() == 1


async def test_claiming_counters_is_all_or_nothing(db: Database) -> None:
    structure = await make_structure()
    activity = await make_activity(structure, capacity=2, waitlist=1)
    roomy, tight = await make_days(activity, WEDNESDAY, date(2026, 12, 9))
    await ActivityDay.update({ActivityDay.accepted_count: 2}).where(ActivityDay.id == tight.id)
    # The tight day is full: the claim on both is refused and neither day moves.
    with pytest.raises(CounterConflict) as refused:
        async with write_transaction():
            await claim_counters({roomy.id: (1, 0), tight.id: (1, 0)})
    assert refused.value.args == (tight.id,)
    assert await counters(roomy) == (0, 0)
    assert await counters(tight) == (2, 0)
    # Its waiting place is still free; a day with nothing claimed is left as it is.
    async with write_transaction():
        await claim_counters({roomy.id: (2, 0), tight.id: (0, 1)})
        await claim_counters({tight.id: (0, 0)})
    assert await counters(roomy) == (2, 0)
    assert await counters(tight) == (2, 1)


async def test_a_basket_of_several_days_writes_one_reservation_and_movement_each(
    db: Database,
) -> None:
    structure = await make_structure()
    activity = await make_activity(structure, capacity=1, waitlist=1)
    days = await make_days(activity, *(date(2026, 12, d) for d in (2, 9, 16, 23)))
    setup = await make_family(structure=structure, children=("Léa", "Hugo"))
    await enroll(setup.people, activity)
    basket = Basket()
    for day in days:
        for person in setup.people:
            basket.put(BasketItem(person.id, activity.id, day.id, day.day, DraftAction.BOOK))
    results = await apply_basket(setup.account.id, setup.family.id, basket, now=NOW)
    rows = {r.id: r for r in await Reservation.objects()}
    # Each child's result names its own reservation, whatever the order the rows came back.
    assert len(results) == 8 == len(rows)
    for result in results:
        row = rows[result.reservation_id]
        assert (row.person, row.activity_day, row.status) == (
            result.item.person_id,
            result.item.activity_day_id,
            result.outcome,
        )
        assert row.waitlist_rank == result.waitlist_rank
        assert row.confirmed_at == NOW and row.created_by == "parent" and not row.absent
    assert sorted(r.outcome for r in results) == ["accepted"] * 4 + ["waitlisted"] * 4
    movements = await Movement.objects()
    assert sorted((m.reservation, m.outcome, m.kind) for m in movements) == sorted(
        (r.reservation_id, r.outcome, "book") for r in results
    )
    for day in days:
        assert await counters(day) == (1, 1)
