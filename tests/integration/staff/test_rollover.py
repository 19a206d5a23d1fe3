"""The year rollover: duplicated activities, tariffs and enrolments, days without the
school holidays of the zone and public holidays, the old year archived."""

from __future__ import annotations

from datetime import date

import pytest

from portal.domain.rollover import rules, service
from portal.domain.staff import activities, attendance, attendance_speed, decisions
from portal.domain.staff.archive import Archived
from portal.domain.staff.presence import Presence
from portal.domain.staff.rules import TariffValues
from portal.tables import Activity, ActivityDay, AuditLog, Enrollment, Reservation, Tariff
from tests.conftest import Database
from tests.factories import (
    actor,
    enroll,
    make_activity,
    make_days,
    make_family,
    make_staff,
    reserve,
)

FIRST, LAST = date(2027, 9, 1), date(2028, 7, 7)


def test_holidays_as_closures_and_the_next_year() -> None:
    assert rules.next_school_year(date(2026, 12, 7)) == (date(2027, 9, 1), date(2028, 8, 31))
    assert rules.next_school_year(date(2027, 9, 2)) == (date(2028, 9, 1), date(2029, 8, 31))
    [christmas, winter] = rules.closures(
        [date(2027, 12, 20), date(2027, 12, 21), date(2027, 12, 22), date(2028, 2, 14)]
    )
    assert (christmas.first, christmas.last, winter.first) == (
        date(2027, 12, 20), date(2027, 12, 22), date(2028, 2, 14),
    )  # fmt: skip
    holidays = service.school_holidays(FIRST, LAST, "A")
    assert date(2027, 12, 24) in holidays and date(2027, 11, 15) not in holidays


async def test_roll_over_a_structure(db: Database) -> None:
    setup = await make_family(children=("Paolo",))
    clerk = actor(await make_staff("agent-a", setup.structure))
    sid = int(setup.structure.id)
    canteen = await make_activity(setup.structure, "Restauration", capacity=None)
    centre = await make_activity(setup.structure, "Accueil de loisirs", capacity=30)
    await enroll(setup.people, canteen, centre)
    # This year: the canteen on school Mondays, the centre on a Wednesday and in the holidays.
    await make_days(canteen, date(2026, 11, 16), date(2026, 11, 23))
    await make_days(centre, date(2026, 11, 18), date(2026, 12, 23))  # 23/12: Christmas holidays
    await Tariff(
        activity=canteen.id, band="A", unit_price_cents=300, valid_from=date(2026, 9, 1)
    ).save()
    await Tariff(
        activity=canteen.id, band="A", unit_price_cents=320, valid_from=date(2027, 1, 1)
    ).save()

    with pytest.raises(service.RolloverError, match="zone"):
        await service.plan(sid, FIRST, LAST)
    await service.save_zone(clerk, sid, "A")
    plan = {p.name: p for p in await service.plan(sid, FIRST, LAST)}
    assert plan["Restauration"].weekdays == frozenset({0})
    assert plan["Restauration"].skips_holidays and not plan["Accueil de loisirs"].skips_holidays
    canteen_days = plan["Restauration"].days
    assert date(2027, 10, 25) not in canteen_days  # Toussaint holidays (zone A)
    assert date(2027, 11, 1) not in canteen_days  # public holiday
    assert date(2027, 11, 8) in canteen_days
    assert date(2027, 12, 22) in plan["Accueil de loisirs"].days  # runs in the holidays

    assert await service.roll_over(clerk, sid, FIRST, LAST) == 2
    with pytest.raises(service.RolloverError, match="déjà"):
        await service.roll_over(clerk, sid, FIRST, LAST)
    old = await Activity.objects().get(Activity.id == canteen.id)
    assert old is not None and not old.active
    new = await Activity.objects().get(
        (Activity.name == "Restauration") & (Activity.active == True)  # noqa: E712
    )
    assert new is not None and new.id != canteen.id
    tariffs = {t.band: t for t in await Tariff.objects().where(Tariff.activity == new.id)}
    assert (tariffs["A"].unit_price_cents, tariffs["A"].valid_from) == (320, FIRST)
    assert await Enrollment.count().where(Enrollment.activity == new.id) == 1
    assert await ActivityDay.count().where(ActivityDay.activity == new.id) == len(canteen_days)


async def test_the_archived_year_is_read_only_for_staff(db: Database) -> None:
    """After the rollover, the previous year's activity, its days, bookings and attendance
    are consulted but no longer changed; the new year's stay open to staff."""
    setup = await make_family(children=("Paolo", "Amalia"))
    clerk = actor(await make_staff("agent-a", setup.structure))
    sid = int(setup.structure.id)
    canteen = await make_activity(setup.structure, "Restauration", capacity=10)
    await enroll(setup.people, canteen)
    [day] = await make_days(canteen, date(2026, 11, 16))
    booked = await reserve(setup, setup.people[0], day, "accepted")
    waiting = await reserve(setup, setup.people[1], day, "pending")
    await service.save_zone(clerk, sid, "A")
    await service.roll_over(clerk, sid, FIRST, LAST)
    old = await Activity.objects().get(Activity.id == canteen.id)
    assert old is not None and old.archived_at is not None and not old.active
    new = await Activity.objects().get((Activity.name == "Restauration") & Activity.active.eq(True))
    assert new is not None and new.archived_at is None
    journal_before = await AuditLog.count()

    refused = [
        activities.set_day_open(clerk, sid, int(day.id), False),
        activities.set_day_capacity(clerk, sid, int(day.id), 20, 0),
        activities.set_enrolments(clerk, sid, int(canteen.id), set()),
        activities.set_tariff(
            clerk, sid, int(canteen.id), TariffValues("A", 999, date(2026, 11, 1))
        ),
        attendance.mark(clerk, sid, int(booked.id), Presence.ABSENT),
        attendance_speed.all_present(clerk, sid, int(canteen.id), day.day),
        decisions.decide(clerk, sid, int(waiting.id), True),
    ]
    for change in refused:
        with pytest.raises(Archived, match="année scolaire archivée"):
            await change
    assert await AuditLog.count() == journal_before  # nothing written, nothing journaled
    kept = await ActivityDay.objects().get(ActivityDay.id == day.id)
    assert kept is not None and kept.is_open and kept.capacity == 10
    assert await Enrollment.count().where(Enrollment.activity == canteen.id) == 2
    assert (await Reservation.objects().get(Reservation.id == waiting.id)).status == "pending"
    # The new year's activity is the staff's to change.
    await activities.set_enrolments(clerk, sid, int(new.id), set())
    assert await Enrollment.count().where(Enrollment.activity == new.id) == 0
