"""Costs of the basket (recap) and the family's tracking table ("Suivi des réservations")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from portal import clock
from portal.domain.booking import hours
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.on_behalf import Booker
from portal.domain.booking.scope import (
    SHOWN_STATUSES,
    ActivityInfo,
    BookingError,
    BookingScope,
    PersonInfo,
)
from portal.domain.booking.states import (
    DraftAction,
)
from portal.domain.money.pricing import load_tariffs
from portal.domain.reservation_status import STATUS_LABELS, WAITING_STATUSES, ReservationStatus
from portal.tables import (
    Activity,
    Reservation,
)

# --- costs ---------------------------------------------------------------------------


def item_quantity(activity: ActivityInfo, arrival: time | None, departure: time | None) -> int:
    if activity.time_entry and arrival and departure:
        return hours.billed_quantity(arrival, departure, activity.unit_minutes or 30)
    return 1


@dataclass(frozen=True)
class RecapLine:
    item: BasketItem
    person: PersonInfo
    activity: ActivityInfo
    quantity: int
    cost_cents: int | None


async def recap(scope: BookingScope, basket: Basket) -> tuple[list[RecapLine], list[RecapLine]]:
    """The basket as the two recap tables: bookings with their cost, and cancellations."""
    tariffs = await load_tariffs(i.activity_id for i in basket)
    lines: dict[DraftAction, list[RecapLine]] = {DraftAction.BOOK: [], DraftAction.CANCEL: []}
    for item in basket:
        activity = scope.activities.get(item.activity_id)
        try:
            person = scope.person(item.person_id)
        except BookingError:
            continue
        if activity is None:
            continue
        quantity = item_quantity(activity, item.arrival, item.departure)
        unit = tariffs.price(activity.id, scope.tariff_band, item.day)
        lines[item.action].append(
            RecapLine(item, person, activity, quantity, None if unit is None else unit * quantity)
        )
    return lines[DraftAction.BOOK], lines[DraftAction.CANCEL]


# --- tracking ("Suivi des réservations") ---------------------------------------------


@dataclass(frozen=True)
class TrackingFilters:
    person_id: int | None = None
    activity_id: int | None = None
    start: date | None = None
    end: date | None = None
    statuses: tuple[ReservationStatus, ...] = SHOWN_STATUSES
    transmitted: bool | None = None  # None: both


@dataclass(frozen=True)
class TrackingLine:
    reservation_id: int
    day: date
    activity: str
    person: str
    arrival: time | None
    departure: time | None
    cost_cents: int | None
    status: ReservationStatus
    waitlist_rank: int | None
    transmitted: bool
    by_structure: bool = False  # booked by a clerk on the family's behalf

    @property
    def state_label(self) -> str:
        base = _STATE_LABELS[self.status]
        if self.status is ReservationStatus.WAITLISTED and self.waitlist_rank:
            base = f"{base} (rang {self.waitlist_rank})"
        if not self.transmitted:
            base = f"{base}, non transmise"
        return f"{base}, par la structure" if self.by_structure else base

    @property
    def badge(self) -> str:
        """The badge variant of the state in the tracking table."""
        return _STATE_BADGES[self.status]


_STATE_LABELS = STATUS_LABELS
_STATE_BADGES = {
    ReservationStatus.ACCEPTED: "success",
    ReservationStatus.WAITLISTED: "warning",
    ReservationStatus.PENDING: "info",
    ReservationStatus.REFUSED: "error",
    ReservationStatus.CANCELLED: "neutral",
}


@dataclass(frozen=True)
class Tracking:
    lines: list[TrackingLine]
    accepted_count: int
    accepted_cost_cents: int
    pending_count: int
    pending_cost_cents: int


async def tracking(scope: BookingScope, filters: TrackingFilters) -> Tracking:
    """The family's reservations, filtered, with their cost; scoped to the family."""
    where = (Reservation.family == scope.family_id) & Reservation.status.is_in(
        list(filters.statuses) or ["none"]
    )
    if filters.person_id is not None:
        where &= Reservation.person == filters.person_id
    if filters.activity_id is not None:
        where &= Reservation.activity_day._.activity == filters.activity_id
    if filters.start is not None:
        where &= Reservation.activity_day._.day >= filters.start
    if filters.end is not None:
        where &= Reservation.activity_day._.day <= filters.end
    if filters.transmitted is True:
        where &= Reservation.transmitted_at.is_not_null()
    elif filters.transmitted is False:
        where &= Reservation.transmitted_at.is_null()
    rows = await (
        Reservation.select(
            Reservation.id,
            Reservation.person,
            Reservation.status,
            Reservation.arrival,
            Reservation.departure,
            Reservation.quantity,
            Reservation.waitlist_rank,
            Reservation.transmitted_at,
            Reservation.created_by,
            Reservation.activity_day._.day,
            Reservation.activity_day._.activity,
        )
        .where(where)
        .order_by(Reservation.activity_day._.day)
        .order_by(Reservation.id)
    )
    people = {p.id: p for p in scope.people}
    all_activities = {
        a.id: a.name
        for a in await Activity.objects().where(Activity.structure == scope.structure_id)
    }
    tariffs = await load_tariffs(r["activity_day.activity"] for r in rows)
    lines = []
    for row in rows:
        activity_id = row["activity_day.activity"]
        day = row["activity_day.day"]
        info = scope.activities.get(activity_id)
        unit = tariffs.price(activity_id, scope.tariff_band, day)
        person = people.get(row["person"])
        if info is not None:
            arrival = row["arrival"] or (None if info.time_entry else info.start_time)
            departure = row["departure"] or (None if info.time_entry else info.end_time)
        else:
            arrival, departure = row["arrival"], row["departure"]
        lines.append(
            TrackingLine(
                reservation_id=row["id"],
                day=day,
                activity=all_activities.get(activity_id, "?"),
                person=person.full_name if person else "?",
                arrival=arrival,
                departure=departure,
                cost_cents=None if unit is None else unit * row["quantity"],
                status=ReservationStatus(row["status"]),
                waitlist_rank=row["waitlist_rank"],
                transmitted=row["transmitted_at"] is not None,
                by_structure=row["created_by"] == Booker.STAFF.value,
            )
        )
    accepted = [line for line in lines if line.status is ReservationStatus.ACCEPTED]
    pending = [line for line in lines if line.status in WAITING_STATUSES]
    return Tracking(
        lines=lines,
        accepted_count=len(accepted),
        accepted_cost_cents=sum(line.cost_cents or 0 for line in accepted),
        pending_count=len(pending),
        pending_cost_cents=sum(line.cost_cents or 0 for line in pending),
    )


def local_now(scope: BookingScope, now: datetime | None = None) -> datetime:
    return (now or clock.utcnow()).astimezone(scope.tz)
