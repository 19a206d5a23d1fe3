"""The demo shows a booking period in each state a town meets: upcoming, in its window with
families' requests, and allocated (by the real allocation) with every outcome."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from portal.demo import TZ_NAME, load_demo
from portal.domain.booking.opening import family_waiting_requests
from portal.domain.periods.allocate import allocate_period
from portal.tables import BookingPeriod, OutboxEmail, PeriodRequest, Person
from tests.conftest import Database

TODAY = date(2026, 12, 1)


async def test_demo_periods_cover_every_state(db: Database, tmp_path: Path) -> None:
    await load_demo(TODAY, documents_dir=tmp_path)
    periods = {
        str(p["name"]): p for p in await BookingPeriod.select().order_by(BookingPeriod.opens_at)
    }
    assert list(periods) == [
        "Sorties du mercredi, février 2027",
        "Vacances de printemps 2027",
        "Mercredis de janvier 2027",
        "Vacances d'hiver 2027",
    ]
    allocated = periods["Sorties du mercredi, février 2027"]
    window = periods["Vacances de printemps 2027"]
    assert allocated["allocated_at"] is not None
    assert window["allocated_at"] is None and window["allocation_started_at"] is None
    assert all(
        periods[name]["allocation_started_at"] is None
        for name in ("Mercredis de janvier 2027", "Vacances d'hiver 2027")
    )

    paolo = await Person.objects().get(
        (Person.first_name == "Paolo") & (Person.family._.structure._.name.like("Mairie%"))
    )
    assert paolo is not None

    async def statuses(period_id: int) -> dict[str, int]:
        rows = await PeriodRequest.raw(
            "SELECT status, COUNT(*) AS n FROM period_request WHERE period = {} GROUP BY status",
            period_id,
        )
        return {str(r["status"]): int(r["n"]) for r in rows}

    # 36 children for one Wednesday of 24 places and 10 on the waiting list.
    assert await statuses(int(allocated["id"])) == {"accepted": 24, "waitlisted": 10, "refused": 2}
    assert set(await statuses(int(window["id"]))) == {"waiting"}
    # DUPONT proved both parents work: first in the order, so his Paolo has his place.
    mine = await PeriodRequest.select(PeriodRequest.status, PeriodRequest.reservation).where(
        (PeriodRequest.period == allocated["id"]) & (PeriodRequest.person == paolo.id)
    )
    assert [r["status"] for r in mine] == ["accepted"] and mine[0]["reservation"] is not None
    waiting = await PeriodRequest.count().where(
        (PeriodRequest.period == window["id"]) & (PeriodRequest.person == paolo.id)
    )
    assert waiting >= 1

    # Each family with an address heard of its outcome once; running again adds nothing.
    recipients = [
        str(r["to_addresses"])
        for r in await OutboxEmail.select(OutboxEmail.to_addresses).where(
            OutboxEmail.subject == "Résultat de l'attribution : Sorties du mercredi, février 2027"
        )
    ]
    assert len(recipients) >= 2 and len(set(recipients)) == len(recipients)
    again = await allocate_period(int(allocated["id"]), base_url="http://localhost")
    assert again.already_done


async def test_suivi_waiting_requests_follow_its_filters(db: Database, tmp_path: Path) -> None:
    """Suivi's « en attente d'attribution » list keeps to the child, activity and dates the
    parent filtered on, like the table under it."""
    await load_demo(TODAY, documents_dir=tmp_path)
    tz = ZoneInfo(TZ_NAME)
    paolo = await Person.objects().get(
        (Person.first_name == "Paolo") & (Person.family._.structure._.name.like("Mairie%"))
    )
    amalia = await Person.objects().get(Person.first_name == "Amalia")
    assert paolo is not None and amalia is not None
    family = int(paolo.family)
    everything = await family_waiting_requests(family, tz)
    days = sorted({r.day for r in everything})
    assert days and {r.person for r in everything} == {"Paolo DUPONT"}
    assert await family_waiting_requests(family, tz, person_id=int(amalia.id)) == []
    assert await family_waiting_requests(family, tz, end=days[0] - timedelta(days=1)) == []
    one_day = await family_waiting_requests(family, tz, start=days[0], end=days[0])
    assert [r.day for r in one_day] == [days[0]]
    paolo_alsh = await family_waiting_requests(
        family, tz, person_id=int(paolo.id), activity_id=int(
            (await PeriodRequest.select(PeriodRequest.activity_day._.activity)
             .where(PeriodRequest.person == paolo.id).first().output(nested=False)
             )["activity_day.activity"]
        ),
    )  # fmt: skip
    assert len(paolo_alsh) == len(everything)


@pytest.mark.parametrize("today", [date(2026, 12, 20), date(2027, 9, 2)])
async def test_the_demo_loads_on_dates_that_once_broke_it(
    db: Database, tmp_path: Path, today: date
) -> None:
    """20 December: no Wednesday was left for the last periods; 2 September: the Toussaint
    holidays closed the draw's only Wednesdays."""
    await load_demo(today, documents_dir=tmp_path)
    periods = await BookingPeriod.select(BookingPeriod.mode, BookingPeriod.allocated_at)
    assert sorted(str(p["mode"]) for p in periods) == [
        "first_come", "lottery", "priority", "priority",
    ]  # fmt: skip
    assert sum(1 for p in periods if p["allocated_at"] is not None) == 1
