"""The attendance list ("liste de présence") of one activity day, and absence marks.

A justified absence is not billed: the consumption posting skips it, and credits back a
day already debited (see portal.domain.money.service.post_consumptions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from portal import clock
from portal.db import write_transaction
from portal.domain.reservation_status import ReservationStatus
from portal.domain.staff import audit
from portal.domain.staff.archive import refuse_if_archived
from portal.domain.staff.presence import Presence
from portal.domain.staff.service import Actor, NotFound
from portal.tables import ActivityDay, Reservation


@dataclass(frozen=True)
class AttendanceLine:
    reservation_id: int
    person: str
    family: str
    arrival: time | None
    departure: time | None
    presence: Presence


@dataclass(frozen=True)
class AttendanceList:
    day_id: int | None
    day: date
    is_open: bool
    capacity: int | None
    lines: list[AttendanceLine]

    @property
    def present_count(self) -> int:
        return sum(1 for line in self.lines if line.presence is Presence.PRESENT)


def _line(row: dict[str, object]) -> AttendanceLine:
    return AttendanceLine(
        reservation_id=int(str(row["id"])),
        person=f"{row['person.last_name']} {row['person.first_name']}",
        family=str(row["family.name"]),
        arrival=row["arrival"],  # type: ignore[arg-type]
        departure=row["departure"],  # type: ignore[arg-type]
        presence=Presence.of(bool(row["absent"]), bool(row["absence_justified"])),
    )


_COLUMNS = (
    Reservation.id,
    Reservation.arrival,
    Reservation.departure,
    Reservation.absent,
    Reservation.absence_justified,
    Reservation.person._.first_name,
    Reservation.person._.last_name,
    Reservation.family._.name,
)


async def attendance_list(structure_id: int, activity_id: int, day: date) -> AttendanceList:
    """Who is expected (accepted reservations), by name; the activity must be the structure's."""
    day_row = await ActivityDay.objects().get(
        (ActivityDay.activity == activity_id)
        & (ActivityDay.day == day)
        & (ActivityDay.activity._.structure == structure_id)
    )
    if day_row is None:
        return AttendanceList(None, day, False, None, [])
    rows = await (
        Reservation.select(*_COLUMNS)
        .where(
            (Reservation.activity_day == day_row.id)
            & (Reservation.status == ReservationStatus.ACCEPTED)
        )
        .output(nested=False)
    )
    lines = sorted((_line(r) for r in rows), key=lambda line: line.person.casefold())
    return AttendanceList(day_row.id, day, day_row.is_open, day_row.capacity, lines)


async def mark(
    actor: Actor, structure_id: int, reservation_id: int, presence: Presence
) -> AttendanceLine:
    """Mark an accepted reservation present, absent, or absent with a justification."""
    absent, justified = presence.flags
    async with write_transaction():
        await refuse_if_archived(reservation_id=reservation_id)
        row = await (
            Reservation.select(*_COLUMNS, Reservation.status)
            .where(
                (Reservation.id == reservation_id)
                & (Reservation.activity_day._.activity._.structure == structure_id)
            )
            .output(nested=False)
            .first()
        )
        if row is None or row["status"] != ReservationStatus.ACCEPTED:
            raise NotFound(f"réservation {reservation_id}")
        before = _line(row).presence
        if before is not presence:
            await Reservation.update(
                {
                    Reservation.absent: absent,
                    Reservation.absence_justified: justified,
                    Reservation.updated_at: clock.utcnow(),
                }
            ).where(Reservation.id == reservation_id)
            await audit.record(
                actor,
                "attendance.mark",
                structure_id=structure_id,
                table="reservation",
                target_id=reservation_id,
                before={"presence": before.value},
                after={"presence": presence.value},
            )
        row["absent"], row["absence_justified"] = absent, justified
    return _line(row)
