"""Requests awaiting staff: pending ones (activities that need a decision) and waitlists.

Accepting takes a place with the booking service's conditional UPDATE
(``accepted_count < capacity``); refusing a waitlisted request closes the rank gap. Each
decision is a Movement(kind=MovementKind.DECISION, actor="staff") for the family's next report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from portal import clock
from portal.db import write_transaction
from portal.domain.booking.apply import _close_waitlist_gap as close_waitlist_gap
from portal.domain.reservation_status import WAITING_STATUSES, MovementKind, ReservationStatus
from portal.domain.staff import audit
from portal.domain.staff.archive import refuse_if_archived
from portal.domain.staff.service import Actor, NotFound
from portal.tables import ActivityDay, Movement, Reservation


class DecisionError(ValueError):
    """The decision cannot be applied (French message)."""


@dataclass(frozen=True)
class WaitingRequest:
    reservation_id: int
    status: ReservationStatus
    rank: int | None
    person: str
    family: str
    confirmed_at: datetime
    arrival: time | None
    departure: time | None

    @property
    def status_label(self) -> str:
        if self.status is ReservationStatus.WAITLISTED:
            return f"Liste d'attente (rang {self.rank})" if self.rank else "Liste d'attente"
        return "En attente de décision"

    @property
    def glyph(self) -> str:
        """Beside the state's words: states are never told by colour alone."""
        return "◐" if self.status is ReservationStatus.WAITLISTED else "?"

    @property
    def badge(self) -> str:
        return "warning" if self.status is ReservationStatus.WAITLISTED else "info"


@dataclass
class DayRequests:
    day_id: int
    day: date
    activity_id: int
    activity: str
    is_open: bool
    capacity: int | None
    accepted: int
    waitlisted: int
    requests: list[WaitingRequest] = field(default_factory=list)

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.accepted)


def _waiting_where(
    structure_id: int,
    activity_id: int | None,
    day: date | None,
    since: date | None,
    day_id: int | None,
) -> Any:
    where = (Reservation.activity_day._.activity._.structure == structure_id) & (
        Reservation.status.is_in(list(WAITING_STATUSES))
    )
    if activity_id is not None:
        where &= Reservation.activity_day._.activity == activity_id
    if day is not None:
        where &= Reservation.activity_day._.day == day
    if since is not None:
        where &= Reservation.activity_day._.day >= since
    if day_id is not None:
        where &= Reservation.activity_day == day_id
    return where


async def count_waiting(
    structure_id: int,
    *,
    activity_id: int | None = None,
    day: date | None = None,
    since: date | None = None,
) -> int:
    """How many requests `waiting_requests` lists with these filters (one COUNT)."""
    return int(
        await Reservation.count().where(_waiting_where(structure_id, activity_id, day, since, None))
    )


async def waiting_requests(
    structure_id: int,
    *,
    activity_id: int | None = None,
    day: date | None = None,
    since: date | None = None,
    day_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[DayRequests]:
    """Pending and waitlisted requests per activity and day, oldest request first.

    `offset`/`limit` take a page of requests in that order (the database sorts: a page
    costs the same whatever the total); no limit means all of them.
    """
    query = (
        Reservation.select(
            Reservation.id,
            Reservation.status,
            Reservation.waitlist_rank,
            Reservation.confirmed_at,
            Reservation.arrival,
            Reservation.departure,
            Reservation.person._.first_name,
            Reservation.person._.last_name,
            Reservation.family._.name,
            Reservation.activity_day._.id,
            Reservation.activity_day._.day,
            Reservation.activity_day._.is_open,
            Reservation.activity_day._.capacity,
            Reservation.activity_day._.accepted_count,
            Reservation.activity_day._.waitlisted_count,
            Reservation.activity_day._.activity._.id,
            Reservation.activity_day._.activity._.name,
            Reservation.activity_day._.activity._.position,
        )
        .where(_waiting_where(structure_id, activity_id, day, since, day_id))
        # The order of the page: day, activity, then pending before waitlisted, by rank,
        # oldest first ("pending" sorts before "waitlisted").
        .order_by(Reservation.activity_day._.day)
        .order_by(Reservation.activity_day._.activity._.position)
        .order_by(Reservation.activity_day._.activity._.name)
        .order_by(Reservation.activity_day._.id)
        .order_by(Reservation.status)
        .order_by(Reservation.waitlist_rank)
        .order_by(Reservation.confirmed_at)
        .order_by(Reservation.id)
        .output(nested=False)
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    rows = await query
    groups: dict[int, DayRequests] = {}
    order: dict[int, tuple[object, ...]] = {}
    for r in rows:
        day_id = int(r["activity_day.id"])
        group = groups.get(day_id)
        if group is None:
            group = DayRequests(
                day_id=day_id,
                day=r["activity_day.day"],
                activity_id=int(r["activity_day.activity.id"]),
                activity=str(r["activity_day.activity.name"]),
                is_open=bool(r["activity_day.is_open"]),
                capacity=r["activity_day.capacity"],
                accepted=int(r["activity_day.accepted_count"]),
                waitlisted=int(r["activity_day.waitlisted_count"]),
            )
            groups[day_id] = group
            order[day_id] = (
                r["activity_day.day"],
                int(r["activity_day.activity.position"] or 0),
                group.activity,
            )
        group.requests.append(
            WaitingRequest(
                reservation_id=int(r["id"]),
                status=ReservationStatus(r["status"]),
                rank=r["waitlist_rank"],
                person=f"{r['person.first_name']} {r['person.last_name']}",
                family=str(r["family.name"]),
                confirmed_at=r["confirmed_at"],
                arrival=r["arrival"],
                departure=r["departure"],
            )
        )
    for group in groups.values():
        group.requests.sort(
            key=lambda q: (
                q.status is not ReservationStatus.PENDING,
                q.rank or 0,
                q.confirmed_at,
                q.reservation_id,
            )
        )
    return [groups[d] for d in sorted(groups, key=lambda d: order[d])]


@dataclass(frozen=True)
class Decided:
    reservation_id: int
    day_id: int
    outcome: ReservationStatus  # accepted or refused
    movement_id: int
    message: str


async def decide(
    actor: Actor,
    structure_id: int,
    reservation_id: int,
    accept: bool,
    now: datetime | None = None,
    *,
    extra_place: bool = False,
) -> Decided:
    """Accept or refuse one pending or waitlisted request, atomically with its counters.

    ``extra_place``: the agent accepts this child on a full day by adding one place for
    it; the capacity and the acceptance change together, so the new place goes to this
    request (a plain capacity raise would go to the head of the waitlist instead).
    """
    now = now or clock.utcnow()
    async with write_transaction():
        await refuse_if_archived(reservation_id=reservation_id)
        row = await (
            Reservation.select(
                Reservation.id,
                Reservation.status,
                Reservation.waitlist_rank,
                Reservation.family,
                Reservation.activity_day._.id,
                Reservation.activity_day._.capacity,
                Reservation.activity_day._.accepted_count,
                Reservation.person._.first_name,
            )
            .where(
                (Reservation.id == reservation_id)
                & (Reservation.activity_day._.activity._.structure == structure_id)
            )
            .output(nested=False)
            .first()
        )
        if row is None:
            raise NotFound(f"réservation {reservation_id}")
        status = ReservationStatus(row["status"])
        if status not in WAITING_STATUSES:
            raise DecisionError("Cette demande a déjà été traitée : rechargez la page.")
        day_id = int(row["activity_day.id"])
        outcome = ReservationStatus.ACCEPTED if accept else ReservationStatus.REFUSED
        added_place = None
        if accept and extra_place:
            raised = await ActivityDay.raw(
                "UPDATE activity_day SET capacity = capacity + 1 WHERE id = {} "
                "AND capacity IS NOT NULL AND accepted_count >= capacity RETURNING capacity",
                day_id,
            )
            added_place = int(raised[0]["capacity"]) if raised else None
        if accept:
            counters = (
                "accepted_count = accepted_count + 1, waitlisted_count = waitlisted_count - 1"
                if status is ReservationStatus.WAITLISTED
                else "accepted_count = accepted_count + 1"
            )
            taken = await ActivityDay.raw(
                f"UPDATE activity_day SET {counters} WHERE id = {{}} "  # noqa: S608 (fixed text)
                "AND (capacity IS NULL OR accepted_count < capacity) RETURNING accepted_count",
                day_id,
            )
            if not taken:
                raise DecisionError(
                    f"Plus de place ce jour-là ({row['activity_day.accepted_count']} acceptée(s) "
                    f"pour {row['activity_day.capacity']} place(s)) : augmentez la capacité "
                    "de la journée ou refusez la demande."
                )
        elif status is ReservationStatus.WAITLISTED:
            await ActivityDay.raw(
                "UPDATE activity_day SET waitlisted_count = waitlisted_count - 1 WHERE id = {}",
                day_id,
            )
        claimed = await Reservation.raw(
            # Its new state is for the next transmission: "non transmise" until then.
            "UPDATE reservation SET status = {}, waitlist_rank = NULL, updated_at = {}, "
            "transmitted_at = NULL WHERE id = {} AND status = {} RETURNING id",
            outcome,
            now,
            reservation_id,
            status,
        )
        if not claimed:  # decided by someone else meanwhile: undo the counters
            raise DecisionError("Cette demande a déjà été traitée : rechargez la page.")
        if status is ReservationStatus.WAITLISTED:
            await close_waitlist_gap(day_id)
        inserted = await Movement.insert(
            Movement(
                family=int(row["family"]),
                reservation=reservation_id,
                kind=MovementKind.DECISION,
                outcome=outcome,
                actor="staff",
                created_at=now,
            )
        ).returning(Movement.id)
        movement_id = int(inserted[0]["id"])
        await audit.record(
            actor,
            "decision.accept" if accept else "decision.refuse",
            structure_id=structure_id,
            table="reservation",
            target_id=reservation_id,
            before={"status": status, "waitlist_rank": row["waitlist_rank"]},
            after={"status": outcome, "movement": movement_id}
            | ({"capacity": added_place} if added_place is not None else {}),
        )
    first_name = row["person.first_name"]
    message = f"Demande de {first_name} {'acceptée' if accept else 'refusée'}."
    if added_place is not None:
        message += f" La journée passe à {added_place} places."
    return Decided(reservation_id, day_id, outcome, movement_id, message)
