"""1,000 families confirm baskets during a window (PostgreSQL): the allocation is killed
half-way and rerun; counters equal rows; each family gets one message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.db import write_transaction
from portal.domain.booking.opening import NewRequest, PeriodMode, record_requests
from portal.domain.periods import allocate
from portal.tables import Account, AccountFamily, Family, OutboxEmail, PeriodRequest, Person
from tests.conftest import Database
from tests.factories import make_activity, make_days, make_structure
from tests.integration.periods.test_periods import (
    BASE_URL,
    DAY1,
    DAY2,
    ENDS,
    OPENS,
    assert_counters_equal_rows,
    counters,
    make_period,
)

FAMILIES = 1000


async def _bulk_families(structure_id: int, n: int) -> list[tuple[int, int]]:
    """(family, person) pairs, inserted in a few statements (the factories are per row)."""
    accounts = await Account.insert(
        *[
            Account(login=f"f{i}", password_hash="x", display_name=f"F{i}", emails=f"f{i}@ex.fr")
            for i in range(n)
        ]
    ).returning(Account.id)
    families = await Family.insert(
        *[Family(structure=structure_id, name=f"FAMILLE{i} X") for i in range(n)]
    ).returning(Family.id)
    await AccountFamily.insert(
        *[
            AccountFamily(account=a["id"], family=f["id"])
            for a, f in zip(accounts, families, strict=True)
        ]
    )
    people = await Person.insert(
        *[Person(family=f["id"], first_name="Enfant", last_name="X") for f in families]
    ).returning(Person.id)
    return [(f["id"], p["id"]) for f, p in zip(families, people, strict=True)]


async def test_thousand_families_killed_and_rerun(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.kind != "postgresql":
        pytest.skip("the load test runs on PostgreSQL")
    structure = await make_structure()
    activity = await make_activity(structure, capacity=300, waitlist=200)
    days = await make_days(activity, DAY1, DAY2)
    period_id = await make_period(structure.id, activity.id, PeriodMode.LOTTERY)
    pairs = await _bulk_families(structure.id, FAMILIES)
    async with write_transaction():
        await record_requests(
            [
                NewRequest(period_id, family, person, day.id, None, None, 1)
                for family, person in pairs
                for day in days
            ],
            OPENS + timedelta(minutes=1),
        )
    real = allocate.allocate_day
    calls = 0

    async def killed_on_second_day(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("worker killed")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(allocate, "allocate_day", killed_on_second_day)
    with pytest.raises(ConnectionError):
        await allocate.allocate_period(period_id, base_url=BASE_URL, now=ENDS)
    monkeypatch.setattr(allocate, "allocate_day", real)
    outcome = await allocate.allocate_period(
        period_id, base_url=BASE_URL, now=ENDS + timedelta(minutes=5)
    )
    assert outcome.families_told == FAMILIES
    await assert_counters_equal_rows([d.id for d in days])
    for day in days:
        assert await counters(day.id) == (300, 200)
    assert await PeriodRequest.count().where(PeriodRequest.status == "waiting") == 0
    keys = [r["dedupe_key"] for r in await OutboxEmail.select(OutboxEmail.dedupe_key)]
    assert len(keys) == len(set(keys)) == FAMILIES
    again = await allocate.allocate_period(period_id, base_url=BASE_URL, now=ENDS)
    assert again.already_done and await OutboxEmail.count() == FAMILIES
