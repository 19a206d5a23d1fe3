"""Attendance at speed: « Tous présents » then the exceptions, the times seen for
time-entry activities, and a child who came without a booking.

Beside portal.domain.staff.attendance (the list and one mark): these act on a whole sheet.
A child who came unbooked gets an accepted reservation made by the structure (the family's
report says « par la structure »), one more place when the day is full, and is billed by
the consumption posting like any accepted day, at the tariff of the family's band.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from portal import clock
from portal.db import write_transaction
from portal.domain.booking import hours
from portal.domain.booking.apply import lock_days
from portal.domain.booking.on_behalf import Booker
from portal.domain.staff import audit
from portal.domain.staff.archive import refuse_if_archived
from portal.domain.staff.service import Actor, NotFound
from portal.tables import (
    Activity,
    ActivityDay,
    AttendanceSheet,
    AttendanceTime,
    Enrollment,
    Movement,
    Person,
    Reservation,
)


class AttendanceError(ValueError):
    """A sheet action that cannot be done as asked (the message is French)."""


@dataclass(frozen=True)
class SheetState:
    taken_by: str
    taken_at: datetime


@dataclass(frozen=True)
class TimeLine:
    """One child of a time-entry sheet: the booked times and the ones seen."""

    reservation_id: int
    person: str
    booked_arrival: time | None
    booked_departure: time | None
    arrival: time | None
    departure: time | None
    minutes: int | None


@dataclass(frozen=True)
class Candidate:
    person_id: int
    name: str


async def _activity_day(structure_id: int, activity_id: int, day: date) -> ActivityDay:
    row = await ActivityDay.objects().get(
        (ActivityDay.activity == activity_id)
        & (ActivityDay.day == day)
        & (ActivityDay.activity._.structure == structure_id)
    )
    if row is None:
        raise NotFound(f"journée {activity_id} {day}")
    return row


async def sheet_state(structure_id: int, activity_id: int, day: date) -> SheetState | None:
    """Whether the sheet was taken (« Tous présents »), by whom and when."""
    row = await (
        AttendanceSheet.select(AttendanceSheet.staff_login, AttendanceSheet.taken_at)
        .where(
            (AttendanceSheet.activity_day._.activity == activity_id)
            & (AttendanceSheet.activity_day._.day == day)
            & (AttendanceSheet.activity_day._.activity._.structure == structure_id)
        )
        .first()
    )
    return SheetState(str(row["staff_login"]), row["taken_at"]) if row else None


async def all_present(actor: Actor, structure_id: int, activity_id: int, day: date) -> int:
    """Mark every expected child present and the sheet taken; returns how many changed.

    The exceptions are marked afterwards, one by one (the sheet's own buttons).
    """
    async with write_transaction():
        activity_day = await _activity_day(structure_id, activity_id, day)
        await refuse_if_archived(activity_id=activity_id)
        changed = await Reservation.raw(
            "UPDATE reservation SET absent = {}, absence_justified = {}, updated_at = {} "
            "WHERE activity_day = {} AND status = 'accepted' AND absent = {} RETURNING id",
            False,
            False,
            clock.utcnow(),
            activity_day.id,
            True,
        )
        taken = (
            await AttendanceSheet.update(
                {AttendanceSheet.staff_login: actor.login, AttendanceSheet.taken_at: clock.utcnow()}
            )
            .where(AttendanceSheet.activity_day == activity_day.id)
            .returning(AttendanceSheet.id)
        )
        if not taken:
            await AttendanceSheet.insert(
                AttendanceSheet(activity_day=activity_day.id, staff_login=actor.login)
            )
        await audit.record(
            actor,
            "attendance.all_present",
            structure_id=structure_id,
            table="activity_day",
            target_id=int(activity_day.id),
            after={"jour": day.isoformat(), "marqués présents": len(changed)},
        )
    return len(changed)


# --- times seen, for time-entry activities --------------------------------------------


async def time_lines(structure_id: int, activity_id: int, day: date) -> list[TimeLine]:
    activity_day = await _activity_day(structure_id, activity_id, day)
    rows = await (
        Reservation.select(
            Reservation.id,
            Reservation.arrival,
            Reservation.departure,
            Reservation.person._.first_name,
            Reservation.person._.last_name,
        )
        .where((Reservation.activity_day == activity_day.id) & (Reservation.status == "accepted"))
        .output(nested=False)
    )
    seen: dict[int, AttendanceTime] = {}
    if rows:
        for t in await AttendanceTime.objects().where(
            AttendanceTime.reservation.is_in([int(r["id"]) for r in rows])
        ):
            seen[int(t.reservation)] = t
    lines = []
    for r in rows:
        found = seen.get(int(r["id"]))
        lines.append(
            TimeLine(
                reservation_id=int(r["id"]),
                person=f"{r['person.last_name']} {r['person.first_name']}",
                booked_arrival=r["arrival"],
                booked_departure=r["departure"],
                arrival=found.arrival if found else None,
                departure=found.departure if found else None,
                minutes=int(found.minutes) if found else None,
            )
        )
    return sorted(lines, key=lambda line: line.person.casefold())


async def record_times(
    actor: Actor,
    structure_id: int,
    activity_id: int,
    day: date,
    times: Mapping[int, tuple[time, time]],
) -> int:
    """Record the arrival and departure seen per reservation of the sheet (all or nothing)."""
    lines = {line.reservation_id: line for line in await time_lines(structure_id, activity_id, day)}
    for reservation_id, (arrival, departure) in times.items():
        if reservation_id not in lines:
            raise NotFound(f"réservation {reservation_id}")
        if departure <= arrival:
            raise AttendanceError(
                f"{lines[reservation_id].person} : le départ doit suivre l'arrivée."
            )
    changed = 0
    async with write_transaction():
        await refuse_if_archived(activity_id=activity_id)
        for reservation_id, (arrival, departure) in sorted(times.items()):
            line = lines[reservation_id]
            if (line.arrival, line.departure) == (arrival, departure):
                continue
            minutes = hours.TimeRange(arrival, departure).minutes
            updated = (
                await AttendanceTime.update(
                    {
                        AttendanceTime.arrival: arrival,
                        AttendanceTime.departure: departure,
                        AttendanceTime.minutes: minutes,
                        AttendanceTime.staff_login: actor.login,
                        AttendanceTime.recorded_at: clock.utcnow(),
                    }
                )
                .where(AttendanceTime.reservation == reservation_id)
                .returning(AttendanceTime.id)
            )
            if not updated:
                await AttendanceTime.insert(
                    AttendanceTime(
                        reservation=reservation_id,
                        arrival=arrival,
                        departure=departure,
                        minutes=minutes,
                        staff_login=actor.login,
                    )
                )
            await audit.record(
                actor,
                "attendance.times",
                structure_id=structure_id,
                table="reservation",
                target_id=reservation_id,
                before={"arrivée": line.arrival, "départ": line.departure},
                after={"arrivée": arrival, "départ": departure},
            )
            changed += 1
    return changed


# --- a child who came without a booking -------------------------------------------------


async def unexpected_candidates(structure_id: int, activity_id: int, day: date) -> list[Candidate]:
    """Children enrolled in the activity with no live request on that day."""
    activity_day = await _activity_day(structure_id, activity_id, day)
    booked = {
        int(r["person"])
        for r in await Reservation.select(Reservation.person).where(
            (Reservation.activity_day == activity_day.id)
            & Reservation.status.is_in(["accepted", "waitlisted", "pending"])
        )
    }
    rows = await (
        Enrollment.select(
            Enrollment.person, Enrollment.person._.first_name, Enrollment.person._.last_name
        )
        .where(Enrollment.activity == activity_id)
        .output(nested=False)
    )
    candidates = {
        int(r["person"]): f"{r['person.last_name']} {r['person.first_name']}"
        for r in rows
        if int(r["person"]) not in booked
    }
    return sorted((Candidate(p, n) for p, n in candidates.items()), key=lambda c: c.name.casefold())


async def add_unexpected(
    actor: Actor,
    structure_id: int,
    activity_id: int,
    day: date,
    person_id: int,
    arrival: time | None = None,
    departure: time | None = None,
) -> int:
    """Record a child who came without a booking: an accepted reservation by the structure
    (one more place when the day is full), billed like any accepted day. Returns its id."""
    activity = await Activity.objects().get(
        (Activity.id == activity_id) & (Activity.structure == structure_id)
    )
    person = await Person.objects().get(
        (Person.id == person_id) & (Person.family._.structure == structure_id)
    )
    if activity is None or person is None:
        raise NotFound(f"activité {activity_id} ou enfant {person_id}")
    quantity = 1
    if activity.time_entry:
        if arrival is None or departure is None or departure <= arrival:
            raise AttendanceError("Indiquez l'heure d'arrivée et l'heure de départ de l'enfant.")
        quantity = hours.billed_quantity(arrival, departure, activity.billing_unit_minutes or 30)
    now = clock.utcnow()
    async with write_transaction():
        activity_day = await _activity_day(structure_id, activity_id, day)
        await refuse_if_archived(activity_id=activity_id)
        locked = (await lock_days([int(activity_day.id)]))[int(activity_day.id)]
        live = await Reservation.count().where(
            (Reservation.person == person_id)
            & (Reservation.activity_day == activity_day.id)
            & Reservation.status.is_in(["accepted", "waitlisted", "pending"])
        )
        if live:
            raise AttendanceError("Cet enfant a déjà une demande ce jour-là : marquez sa présence.")
        raise_capacity = locked.capacity is not None and locked.accepted_count >= locked.capacity
        await ActivityDay.raw(
            "UPDATE activity_day SET accepted_count = accepted_count + 1, "
            "capacity = CASE WHEN {} THEN capacity + 1 ELSE capacity END WHERE id = {}",
            raise_capacity,
            activity_day.id,
        )
        [inserted] = await Reservation.insert(
            Reservation(
                family=person.family,
                person=person_id,
                activity_day=activity_day.id,
                status="accepted",
                arrival=arrival if activity.time_entry else None,
                departure=departure if activity.time_entry else None,
                quantity=quantity,
                confirmed_at=now,
                created_by=Booker.STAFF.value,
                updated_at=now,
            )
        ).returning(Reservation.id)
        reservation_id = int(inserted["id"])
        await Movement.insert(
            Movement(
                family=person.family,
                reservation=reservation_id,
                kind="book",
                outcome="accepted",
                actor=Booker.STAFF.value,
                created_at=now,
            )
        )
        if activity.time_entry and arrival and departure:
            await AttendanceTime.insert(
                AttendanceTime(
                    reservation=reservation_id,
                    arrival=arrival,
                    departure=departure,
                    minutes=hours.TimeRange(arrival, departure).minutes,
                    staff_login=actor.login,
                )
            )
        await audit.record(
            actor,
            "attendance.unexpected",
            structure_id=structure_id,
            table="reservation",
            target_id=reservation_id,
            after={
                "enfant": f"{person.first_name} {person.last_name}",
                "activité": activity.name,
                "jour": day.isoformat(),
                "place ajoutée": raise_capacity,
            },
        )
    return reservation_id
