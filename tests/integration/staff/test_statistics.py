"""The statistics agree with the register, recomputed here row by row."""

from __future__ import annotations

from datetime import date, time, timedelta

from portal.domain.statistics import rules, service
from portal.tables import Person, Reservation
from tests.conftest import Database
from tests.factories import enroll, make_activity, make_days, make_world, reserve, today


async def test_figures_match_the_register(db: Database) -> None:
    world = await make_world()
    await Person.update({Person.birth_date: date(2021, 3, 1)}).where(
        Person.id == world.family.people[0].id
    )
    await Reservation.update({Reservation.absent: True, Reservation.absence_justified: True}).where(
        Reservation.id == world.accepted[1].id
    )
    care = await make_activity(
        world.structure, "Accueil du soir", time_entry=True, start=time(16, 30), end=time(18, 30),
        arrivals="16:30", departures="18:30",
    )  # fmt: skip
    [care_day] = await make_days(care, today() + timedelta(days=1))
    await enroll(world.other.people, care)
    booked = await reserve(world.other, world.other.people[0], care_day, "accepted")
    await Reservation.update(
        {Reservation.arrival: time(16, 30), Reservation.departure: time(18, 30),
         Reservation.quantity: 4}
    ).where(Reservation.id == booked.id)  # fmt: skip

    start = today().replace(day=1) - timedelta(days=40)
    end = today() + timedelta(days=60)
    stats = await service.statistics(world.sid, start, end)

    # Recomputed from the register's rows, without the service's query.
    accepted = await Reservation.objects(Reservation.activity_day, Reservation.person).where(
        Reservation.status == "accepted"
    )
    expected: dict[tuple[str, date], dict[str, object]] = {}
    for r in accepted:
        day, activity = r.activity_day.day, r.activity_day.activity
        if not start <= day <= end:
            continue
        name = "Accueil du soir" if activity == care.id else str(world.activity.name)
        e = expected.setdefault(
            (name, day.replace(day=1)),
            {"children": set(), "booked": 0, "attended": 0, "billed": 0, "ages": {}},
        )
        e["children"].add(r.person.id)  # type: ignore[attr-defined]
        e["booked"] += 1  # type: ignore[operator]
        e["attended"] += 0 if r.absent else 1  # type: ignore[operator]
        e["billed"] += 0 if (r.absent and r.absence_justified) else 1  # type: ignore[operator]
        group = rules.age_group(r.person.birth_date, day)
        e["ages"][group] = e["ages"].get(group, 0) + 1  # type: ignore[index,union-attr]
    got = {
        (line.activity_name, line.month): {
            "children": line.total.children,
            "booked": line.total.booked,
            "attended": line.total.attended,
            "billed": line.total.billed,
            "ages": {g: f.booked for g, f in line.by_age},
        }
        for line in stats.lines
    }
    assert got == expected
    [care_line] = [line for line in stats.lines if line.activity_name == "Accueil du soir"]
    assert (care_line.total.minutes_done, care_line.total.minutes_billed) == (120, 120)
    full = [o for o in stats.occupancy if o.day == world.full_day.day]
    assert [(o.accepted, o.capacity, o.percent) for o in full] == [(2, 2, 100)]
    table = service.export_table(stats)
    assert table.header[0] == "Activité" and len(table.rows) >= len(stats.lines)
