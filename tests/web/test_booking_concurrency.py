"""Many parents at once over real HTTP: confirms queue behind SQLite's one writer, concurrent
cancellations of one day never deadlock on PostgreSQL, and the counters stay exact."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from argon2 import PasswordHasher

from portal.tables import Account, ActivityDay, Reservation
from tests.conftest import Database
from tests.factories import PASSWORD, enroll, make_activity, make_days, make_family
from tests.web.conftest import Browser, LiveServer
from tests.web.test_booking import month_of, next_weekday

# A cheap hash for these accounts: the tests are about the booking path, not about argon2.
CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


async def _families(n: int, capacity: int, waitlist: int) -> tuple[int, ActivityDay, list[int]]:
    first = await make_family(login="famille0", children=("Enfant",), name="FAMILLE0 X")
    activity = await make_activity(first.structure, capacity=capacity, waitlist=waitlist)
    [day] = await make_days(activity, next_weekday(2))
    people = list(first.people)
    for i in range(1, n):
        setup = await make_family(
            login=f"famille{i}", structure=first.structure, children=("Enfant",),
            name=f"FAMILLE{i} X",
        )  # fmt: skip
        people += setup.people
    await enroll(people, activity)
    await Account.update({Account.password_hash: CHEAP_HASH}, force=True)
    return int(activity.id), day, [int(p.id) for p in people]


async def _browsers(live: LiveServer, n: int) -> AsyncIterator[list[Browser]]:
    # Parents at home, each behind their own address (the proxy tells it to the app).
    browsers = [
        Browser(
            base_url=live.url,
            follow_redirects=False,
            timeout=120,
            headers={"x-forwarded-for": f"10.0.{i // 200}.{i % 200 + 1}"},
        )
        for i in range(n)
    ]
    try:
        yield browsers
    finally:
        for b in browsers:
            await b.aclose()


async def _tap_day(browser: Browser, person: int, activity: int, day: ActivityDay) -> None:
    response = await browser.submit(
        "/reservations/basculer",
        {
            "personne": str(person), "activite": str(activity), "mois": month_of(day.day),
            "cible": f"jour:{day.day.isoformat()}",
        },
        page=f"/reservations?personne={person}&activite={activity}&mois={month_of(day.day)}",
    )  # fmt: skip
    assert response.status_code == 303


async def _confirm_all(browsers: list[Browser]) -> list[int]:
    """Every browser posts its confirmation at the same moment."""
    for b in browsers:
        await b.get("/reservations/recapitulatif")
    tokens = [b.last_csrf for b in browsers]

    async def confirm(b: Browser, token: str | None) -> int:
        response = await b.post(
            "/reservations/valider",
            data={"_csrf_token": token or ""},
            headers={"referer": f"{b.base_url}/reservations/recapitulatif"},
        )
        return response.status_code

    pairs = zip(browsers, tokens, strict=True)
    return list(await asyncio.gather(*(confirm(b, t) for b, t in pairs)))


async def assert_invariants(day: ActivityDay) -> dict[str, int]:
    row = await ActivityDay.objects().get(ActivityDay.id == day.id)
    assert row is not None
    rows = await Reservation.objects().where(Reservation.activity_day == day.id)
    by_status: dict[str, list[Reservation]] = {}
    for r in rows:
        by_status.setdefault(r.status, []).append(r)
    accepted = by_status.get("accepted", [])
    waitlisted = by_status.get("waitlisted", [])
    assert row.accepted_count == len(accepted)
    assert row.waitlisted_count == len(waitlisted)
    assert row.capacity is None or len(accepted) <= row.capacity
    assert sorted(r.waitlist_rank for r in waitlisted) == list(range(1, len(waitlisted) + 1))
    return {status: len(items) for status, items in by_status.items()}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_100_concurrent_confirms_queue_on_sqlite(db: Database, live: LiveServer) -> None:
    activity, day, people = await _families(100, capacity=30, waitlist=20)
    async for browsers in _browsers(live, 100):
        for i, b in enumerate(browsers):
            assert (await b.login(f"famille{i}", PASSWORD)).status_code == 303
            await _tap_day(b, people[i], activity, day)
        statuses = await _confirm_all(browsers)
        assert statuses == [303] * 100
        counts = await assert_invariants(day)
        assert counts == {"accepted": 30, "waitlisted": 20, "refused": 50}
        result = await browsers[-1].get("/reservations/resultat")
        assert result.status_code == 200


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
async def test_10_waitlisted_cancel_the_same_day_at_once(db: Database, live: LiveServer) -> None:
    activity, day, people = await _families(12, capacity=2, waitlist=10)
    async for browsers in _browsers(live, 12):
        for i, b in enumerate(browsers):
            assert (await b.login(f"famille{i}", PASSWORD)).status_code == 303
            await _tap_day(b, people[i], activity, day)
        # One by one: two accepted, ten waitlisted (ranks 1..10).
        for b in browsers:
            assert await _confirm_all([b]) == [303]
        assert await assert_invariants(day) == {"accepted": 2, "waitlisted": 10}
        waiting = browsers[2:]
        for i, b in enumerate(waiting, 2):
            await _tap_day(b, people[i], activity, day)  # a tap on a booked day cancels it
        assert await _confirm_all(waiting) == [303] * 10
        assert await assert_invariants(day) == {"accepted": 2, "cancelled": 10}
        # And the two accepted ones cancel together too: nothing left to promote.
        for i, b in enumerate(browsers[:2]):
            await _tap_day(b, people[i], activity, day)
        assert await _confirm_all(browsers[:2]) == [303, 303]
        assert await assert_invariants(day) == {"cancelled": 12}
