"""Booking periods on both databases: drafting before the opening, requests during the
window that hold no place, the allocation through the register's counters, its rerun
after a crash, and one outcome e-mail per family."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal import clock
from portal.domain.booking import views
from portal.domain.booking.apply import ItemOutcome, apply_basket
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.opening import PeriodMode
from portal.domain.booking.scope import load_scope
from portal.domain.booking.states import DayState, DraftAction, TapAction
from portal.domain.criteria_values import values_of_text
from portal.domain.periods import allocate, allocation
from portal.tables import (
    ActivityDay,
    BookingPeriod,
    BookingPeriodActivity,
    OutboxEmail,
    PeriodRequest,
    Reservation,
)
from tests.conftest import Database
from tests.factories import (
    FamilySetup,
    enroll,
    make_activity,
    make_days,
    make_family,
    make_structure,
)

OPENS = datetime(2027, 1, 11, 7, 30, tzinfo=UTC)  # lundi 11/01 à 08:30, Paris
ENDS = datetime(2027, 1, 13, 7, 30, tzinfo=UTC)
DAY1, DAY2 = date(2027, 2, 17), date(2027, 2, 18)
BASE_URL = "http://testserver.local"


async def make_period(
    structure_id: int, activity_id: int, mode: PeriodMode, **extra: object
) -> int:
    inserted = await BookingPeriod.insert(
        BookingPeriod(
            structure=structure_id, name="Vacances d'hiver 2027", first_day=date(2027, 2, 15),
            last_day=date(2027, 2, 26), opens_at=OPENS, mode=mode.value,
            window_ends_at=ENDS if mode.has_window else None, seed="graine-publique", **extra,
        )
    ).returning(BookingPeriod.id)  # fmt: skip
    period_id = int(inserted[0]["id"])
    await BookingPeriodActivity(period=period_id, activity=activity_id).save()
    return period_id


def basket_of(setup: FamilySetup, *days: ActivityDay) -> Basket:
    basket = Basket()
    for day in days:
        basket.put(
            BasketItem(setup.people[0].id, int(day.activity), day.id, day.day, DraftAction.BOOK)
        )
    return basket


async def crowd(n: int, capacity: int, waitlist: int, mode: PeriodMode):  # type: ignore[no-untyped-def]
    structure = await make_structure()
    activity = await make_activity(
        structure, capacity=capacity, waitlist=waitlist, deadline="days:1@10:00"
    )
    days = await make_days(activity, DAY1, DAY2)
    period_id = await make_period(structure.id, activity.id, mode)
    families = []
    for i in range(n):
        setup = await make_family(
            login=f"famille{i}", structure=structure, children=("Enfant",), name=f"FAMILLE{i} X",
            emails=f"f{i}@example.fr",
        )  # fmt: skip
        await enroll(setup.people, activity)
        families.append(setup)
    return period_id, days, families


async def counters(day_id: int) -> tuple[int, int]:
    row = await ActivityDay.objects().get(ActivityDay.id == day_id)
    assert row is not None
    return row.accepted_count, row.waitlisted_count


async def assert_counters_equal_rows(day_ids: list[int]) -> None:
    for day_id in day_ids:
        rows = await Reservation.select(Reservation.status).where(
            Reservation.activity_day == day_id
        )
        accepted = sum(1 for r in rows if r["status"] == "accepted")
        waiting = sum(1 for r in rows if r["status"] == "waitlisted")
        assert await counters(day_id) == (accepted, waiting)


async def test_before_the_opening_nothing_is_decided(db: Database) -> None:
    _, [day, _], [setup] = await crowd(1, 2, 1, PeriodMode.LOTTERY)
    now = OPENS - timedelta(days=1)
    scope = await load_scope(setup.family.id)
    basket = basket_of(setup, day)
    shown = await views.day_views(
        scope, setup.people[0].id, [int(day.activity)], DAY1, DAY1, basket, now
    )
    entry = shown[(int(day.activity), DAY1)]
    assert entry.view.state is DayState.AVAILABLE and entry.view.draft is DraftAction.BOOK
    assert entry.period_note == "ouverture le lundi 11/01 à 08:30"
    [result] = await apply_basket(setup.account.id, setup.family.id, basket, now)
    assert result.outcome is ItemOutcome.NOT_PROCESSED
    assert result.remark and result.remark.startswith("Rien n'est décidé avant l'ouverture")
    assert len(basket) == 1  # still there for the opening
    assert await Reservation.count() == 0 and await PeriodRequest.count() == 0


async def test_window_request_holds_no_place_then_allocation(db: Database) -> None:
    period_id, [day, _], families = await crowd(5, 2, 1, PeriodMode.LOTTERY)
    during = OPENS + timedelta(hours=1)
    for setup in families:
        basket = basket_of(setup, day)
        [result] = await apply_basket(setup.account.id, setup.family.id, basket, during)
        assert result.outcome is ItemOutcome.REQUESTED
        assert result.remark == "En attente du tirage au sort du 13/01"
        assert len(basket) == 0
    assert await counters(day.id) == (0, 0)
    assert await Reservation.count() == 0
    scope = await load_scope(families[0].family.id)
    person = families[0].people[0].id
    shown = await views.day_views(scope, person, [int(day.activity)], DAY1, DAY1, Basket(), during)
    entry = shown[(int(day.activity), DAY1)]
    assert entry.request_note == "en attente du tirage au sort du 13/01"
    assert entry.view.tap is TapAction.CANCEL  # may be withdrawn during the window
    # After the window and before the allocation: kept in the basket, nothing decided.
    late = families[0]
    basket = basket_of(late, day)
    await PeriodRequest.delete().where(PeriodRequest.family == late.family.id)
    [result] = await apply_basket(late.account.id, late.family.id, basket, ENDS)
    assert result.outcome is ItemOutcome.NOT_PROCESSED and len(basket) == 1

    outcome = await allocate.allocate_period(period_id, base_url=BASE_URL, now=ENDS)
    assert (outcome.accepted, outcome.waitlisted, outcome.refused) == (2, 1, 1)
    assert outcome.families_told == 4
    await assert_counters_equal_rows([day.id])
    assert await counters(day.id) == (2, 1)
    again = await allocate.allocate_period(period_id, base_url=BASE_URL, now=ENDS)
    assert again.already_done
    keys = [r["dedupe_key"] for r in await OutboxEmail.select(OutboxEmail.dedupe_key)]
    assert len(keys) == len(set(keys)) == 4
    # The outcome is the pure allocation recomputed from the published seed.
    rows = await PeriodRequest.select().where(PeriodRequest.period == period_id)
    expected = allocation.allocate(
        [
            allocation.Candidate(
                r["id"], day.id, (), allocation.draw_number("graine-publique", r["person"], day.id)
            )
            for r in rows
        ],
        {day.id: allocation.DayRoom(2, 1)},
    )
    assert {r["id"]: r["status"] for r in rows} == {
        i: a.decision.value for i, a in expected.items()
    }
    # Afterwards the days book as usual (first come): the family left out is waitlist-full.
    [result] = await apply_basket(late.account.id, late.family.id, basket, ENDS)
    assert result.outcome in (ItemOutcome.REFUSED, ItemOutcome.REJECTED)


async def test_priorities_put_residents_first(db: Database) -> None:
    from portal.tables import FamilyContact

    structure = await make_structure()
    activity = await make_activity(structure, capacity=1, waitlist=0, deadline="days:1@10:00")
    [day] = await make_days(activity, DAY1)
    period_id = await make_period(
        structure.id, activity.id, PeriodMode.PRIORITY, criteria="resident,spread",
        resident_postcodes="33000",
    )  # fmt: skip
    families = []
    for i in range(4):
        setup = await make_family(
            login=f"p{i}", structure=structure, children=("E",), name=f"F{i} X"
        )
        await enroll(setup.people, activity)
        await FamilyContact(family=setup.family.id, postcode="33000" if i == 2 else "75001").save()
        await apply_basket(setup.account.id, setup.family.id, basket_of(setup, day), OPENS)
        families.append(setup)
    await allocate.allocate_period(period_id, base_url=BASE_URL, now=ENDS)
    accepted = await Reservation.select(Reservation.family).where(Reservation.status == "accepted")
    assert [r["family"] for r in accepted] == [families[2].family.id]
    row = (
        await PeriodRequest.select(PeriodRequest.criteria_values)
        .where(PeriodRequest.family == families[2].family.id)
        .first()
    )
    assert row is not None and values_of_text(row["criteria_values"]) == {
        "resident": 1,
        "spread": 0,
    }


async def test_priorities_rank_working_parents_then_disability_while_the_proof_runs(
    db: Database,
) -> None:
    """Working parents first, then a child with a recognised disability; a proof that ends
    before the requested day counts for nothing (each fact checked on the day itself)."""
    from portal.tables import ChildFile, FamilyContact

    structure = await make_structure()
    activity = await make_activity(structure, capacity=2, waitlist=1, deadline="days:1@10:00")
    [day] = await make_days(activity, DAY1)
    period_id = await make_period(
        structure.id, activity.id, PeriodMode.PRIORITY, criteria="working,disability"
    )
    # (parents working until, disability, disability until) per family, in arrival order.
    facts: list[tuple[date | None, bool, date | None]] = [
        (None, False, None),  # nothing: refused
        (DAY1 - timedelta(days=1), True, DAY1 - timedelta(days=1)),  # both proofs ended: refused
        (None, True, DAY1),  # disability in force on the day: waitlisted
        (DAY1, False, None),  # working, proof runs that day: accepted
        (date(2027, 8, 31), True, date(2028, 6, 30)),  # both: accepted first
    ]
    families = []
    for i, (working_until, disability, disability_end) in enumerate(facts):
        setup = await make_family(
            login=f"w{i}", structure=structure, children=("E",), name=f"F{i} X"
        )
        await enroll(setup.people, activity)
        await FamilyContact(family=setup.family.id, parents_working_until=working_until).save()
        await ChildFile(
            person=setup.people[0].id, disability=disability, disability_end=disability_end
        ).save()
        await apply_basket(setup.account.id, setup.family.id, basket_of(setup, day), OPENS)
        families.append(setup)
    await allocate.allocate_period(period_id, base_url=BASE_URL, now=ENDS)
    status = {
        int(r["family"]): r["status"]
        for r in await Reservation.select(Reservation.family, Reservation.status)
    }
    assert [status.get(f.family.id, "refused") for f in families] == [
        "refused", "refused", "waitlisted", "accepted", "accepted",
    ]  # fmt: skip
    values = {
        int(r["family"]): values_of_text(r["criteria_values"])
        for r in await PeriodRequest.select(PeriodRequest.family, PeriodRequest.criteria_values)
    }
    assert [values[f.family.id] for f in families] == [
        {"working": 0, "disability": 0},
        {"working": 0, "disability": 0},
        {"working": 0, "disability": 1},
        {"working": 1, "disability": 0},
        {"working": 1, "disability": 1},
    ]
    await assert_counters_equal_rows([day.id])


async def test_crash_half_way_then_rerun(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    period_id, days, families = await crowd(6, 2, 2, PeriodMode.LOTTERY)
    for setup in families:
        await apply_basket(setup.account.id, setup.family.id, basket_of(setup, *days), OPENS)
    real = allocate.allocate_day
    calls = 0

    async def dies_on_second_day(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("worker killed")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(allocate, "allocate_day", dies_on_second_day)
    with pytest.raises(ConnectionError):
        await allocate.allocate_period(period_id, base_url=BASE_URL, now=ENDS)
    assert await OutboxEmail.count() == 0
    monkeypatch.setattr(allocate, "allocate_day", real)
    clock.shift(60)
    outcome = await allocate.allocate_period(
        period_id, base_url=BASE_URL, now=ENDS + timedelta(minutes=5)
    )
    assert outcome.families_told == 6
    await assert_counters_equal_rows([d.id for d in days])
    for d in days:
        assert await counters(d.id) == (2, 2)
    waiting = await PeriodRequest.count().where(PeriodRequest.status == "waiting")
    assert waiting == 0
    assert await OutboxEmail.count() == 6


async def test_a_waiting_request_is_withdrawn_until_the_draw_freezes_it(db: Database) -> None:
    period_id, [day, _], [first, second] = await crowd(2, 2, 1, PeriodMode.LOTTERY)
    during = OPENS + timedelta(hours=1)
    for setup in (first, second):
        await apply_basket(setup.account.id, setup.family.id, basket_of(setup, day), during)

    def cancel(setup: FamilySetup) -> Basket:
        basket = Basket()
        basket.put(
            BasketItem(setup.people[0].id, int(day.activity), day.id, DAY1, DraftAction.CANCEL)
        )
        return basket

    [result] = await apply_basket(first.account.id, first.family.id, cancel(first), during)
    assert result.outcome is ItemOutcome.CANCELLED
    assert await PeriodRequest.count().where(PeriodRequest.family == first.family.id) == 0
    period = await BookingPeriod.select().where(BookingPeriod.id == period_id).first()
    assert period is not None
    await allocate.freeze_requests(period, ENDS)
    [late] = await apply_basket(second.account.id, second.family.id, cancel(second), ENDS)
    assert late.outcome is ItemOutcome.REJECTED
    assert await PeriodRequest.count().where(PeriodRequest.family == second.family.id) == 1
