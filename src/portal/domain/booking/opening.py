"""Booking periods as the booking flow sees them: which days a scheduled opening covers,
what phase it is in, and the requests confirmed during a window.

A period covers some activities' days from its first to its last day. Before its opening
instant the days can be drafted (nothing is decided); in a window mode (draw or
priorities) a confirmation during the window records a request that holds no place and
moves no counter; between the window's end and the end of the allocation the days are
briefly closed; afterwards, as in first-come mode after the opening, booking is today's.

The state is read outside the cached booking scope (one small query per calendar), so no
scope version has to follow it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from portal.tables import BookingPeriod, BookingPeriodActivity, PeriodRequest

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class PeriodMode(StrEnum):
    FIRST_COME = "first_come"
    LOTTERY = "lottery"
    PRIORITY = "priority"

    @property
    def label(self) -> str:
        return {
            PeriodMode.FIRST_COME: "Premier arrivé",
            PeriodMode.LOTTERY: "Tirage au sort",
            PeriodMode.PRIORITY: "Priorités",
        }[self]

    @property
    def has_window(self) -> bool:
        return self is not PeriodMode.FIRST_COME


class Phase(StrEnum):
    BEFORE_OPENING = "before_opening"
    WINDOW = "window"  # requests are collected, nothing is decided
    ALLOCATING = "allocating"  # the window ended, the allocation has not finished
    OPEN = "open"  # today's booking


class RequestStatus(StrEnum):
    WAITING = "waiting"
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    REFUSED = "refused"


@dataclass(frozen=True)
class OpeningPeriod:
    id: int
    name: str
    mode: PeriodMode
    opens_at: datetime
    window_ends_at: datetime | None
    first_day: date
    last_day: date
    activity_ids: frozenset[int]
    allocated: bool

    def covers(self, activity_id: int, day: date) -> bool:
        return activity_id in self.activity_ids and self.first_day <= day <= self.last_day

    def phase(self, now: datetime) -> Phase:
        if now < self.opens_at:
            return Phase.BEFORE_OPENING
        if not self.mode.has_window or self.window_ends_at is None:
            return Phase.OPEN
        if now < self.window_ends_at:
            return Phase.WINDOW
        return Phase.OPEN if self.allocated else Phase.ALLOCATING


def local_label(instant: datetime, tz: ZoneInfo) -> str:
    """« lundi 12/01 à 08:30 » in the structure's time zone."""
    local = instant.astimezone(tz)
    return f"{WEEKDAYS[local.weekday()]} {local:%d/%m} à {local:%H:%M}"


def opening_note(period: OpeningPeriod, now: datetime, tz: ZoneInfo) -> str | None:
    """What a calendar day of the period says next to its state, if anything."""
    phase = period.phase(now)
    if phase is Phase.BEFORE_OPENING:
        return f"ouverture le {local_label(period.opens_at, tz)}"
    if phase is Phase.WINDOW and period.window_ends_at is not None:
        return (
            f"demandes jusqu'au {local_label(period.window_ends_at, tz)}, puis {draw_word(period)}"
        )
    if phase is Phase.ALLOCATING:
        return "attribution des places en cours"
    return None


def draw_word(period: OpeningPeriod) -> str:
    return "tirage au sort" if period.mode is PeriodMode.LOTTERY else "attribution par priorités"


def waiting_label(period: OpeningPeriod, tz: ZoneInfo) -> str:
    """« en attente du tirage au sort du 14/01 »."""
    end = period.window_ends_at.astimezone(tz) if period.window_ends_at else None
    when = f" du {end:%d/%m}" if end else ""
    if period.mode is PeriodMode.LOTTERY:
        return f"en attente du tirage au sort{when}"
    return f"en attente de l'attribution par priorités{when}"


def find(periods: Sequence[OpeningPeriod], activity_id: int, day: date) -> OpeningPeriod | None:
    """The period covering this activity's day (the earliest opening if several do)."""
    for period in periods:
        if period.covers(activity_id, day):
            return period
    return None


async def structure_periods(structure_id: int) -> tuple[OpeningPeriod, ...]:
    """Every booking period of the structure, earliest opening first. The booking scope
    keeps them (a structure has a few a year): a tap then filters them in memory, and the
    structure's data version, bumped by triggers on the periods and their activities,
    tells when to read them again."""
    rows = await (
        BookingPeriod.select()
        .where(BookingPeriod.structure == structure_id)
        .order_by(BookingPeriod.opens_at)
        .order_by(BookingPeriod.id)
    )
    if not rows:
        return ()
    links = await BookingPeriodActivity.select(
        BookingPeriodActivity.period, BookingPeriodActivity.activity
    ).where(BookingPeriodActivity.period.is_in([r["id"] for r in rows]))
    activities: dict[int, set[int]] = {}
    for link in links:
        activities.setdefault(int(link["period"]), set()).add(int(link["activity"]))
    return tuple(period_of_row(row, activities.get(int(row["id"]), set())) for row in rows)


def periods_covering(
    periods: Iterable[OpeningPeriod], activity_ids: Iterable[int], start: date, end: date
) -> list[OpeningPeriod]:
    """The periods over these activities that meet [start, end], in the given order."""
    wanted = set(activity_ids)
    return [
        period
        for period in periods
        if period.first_day <= end and period.last_day >= start and period.activity_ids & wanted
    ]


def period_of_row(row: dict[str, object], activity_ids: Iterable[int]) -> OpeningPeriod:
    window = row["window_ends_at"]
    opens_at = row["opens_at"]
    assert isinstance(opens_at, datetime)
    first_day, last_day = row["first_day"], row["last_day"]
    assert isinstance(first_day, date) and isinstance(last_day, date)
    return OpeningPeriod(
        id=int(str(row["id"])),
        name=str(row["name"]),
        mode=PeriodMode(str(row["mode"])),
        opens_at=opens_at,
        window_ends_at=window if isinstance(window, datetime) else None,
        first_day=first_day,
        last_day=last_day,
        activity_ids=frozenset(activity_ids),
        allocated=row["allocated_at"] is not None,
    )


async def waiting_days(person_id: int, activity_day_ids: Iterable[int]) -> dict[int, int]:
    """Activity day id -> period id of the person's requests still waiting for allocation."""
    ids = sorted(set(activity_day_ids))
    if not ids:
        return {}
    rows = await PeriodRequest.select(PeriodRequest.activity_day, PeriodRequest.period).where(
        (PeriodRequest.person == person_id)
        & PeriodRequest.activity_day.is_in(ids)
        & (PeriodRequest.status == RequestStatus.WAITING.value)
    )
    return {int(r["activity_day"]): int(r["period"]) for r in rows}


async def waiting_pairs(family_id: int, activity_day_ids: Iterable[int]) -> set[tuple[int, int]]:
    """(person, activity day) of the family's requests waiting on these days."""
    ids = sorted(set(activity_day_ids))
    if not ids:
        return set()
    rows = await PeriodRequest.select(PeriodRequest.person, PeriodRequest.activity_day).where(
        (PeriodRequest.family == family_id)
        & PeriodRequest.activity_day.is_in(ids)
        & (PeriodRequest.status == RequestStatus.WAITING.value)
    )
    return {(int(r["person"]), int(r["activity_day"])) for r in rows}


async def withdraw_requests(
    family_id: int, pairs: Sequence[tuple[int, int]]
) -> set[tuple[int, int]]:
    """Delete waiting requests (inside the caller's write transaction) that the allocation
    has not frozen yet (no draw number): they held nothing. Returns those deleted."""
    gone: set[tuple[int, int]] = set()
    for person_id, day_id in pairs:
        rows = await PeriodRequest.raw(
            "DELETE FROM period_request WHERE family = {} AND person = {} AND activity_day = {} "
            "AND status = 'waiting' AND draw = '' RETURNING id",
            family_id,
            person_id,
            day_id,
        )
        if rows:
            gone.add((person_id, day_id))
    return gone


@dataclass(frozen=True)
class NewRequest:
    period_id: int
    family_id: int
    person_id: int
    activity_day_id: int
    arrival: time | None
    departure: time | None
    quantity: int


async def record_requests(requests: Sequence[NewRequest], now: datetime) -> set[tuple[int, int]]:
    """Insert window requests (inside the caller's write transaction); a day already asked
    for is kept as it was. Returns the (person, activity day) pairs now waiting."""
    if not requests:
        return set()
    await PeriodRequest.insert(
        *[
            PeriodRequest(
                period=r.period_id,
                family=r.family_id,
                person=r.person_id,
                activity_day=r.activity_day_id,
                arrival=r.arrival,
                departure=r.departure,
                quantity=r.quantity,
                requested_at=now,
                status=RequestStatus.WAITING.value,
            )
            for r in requests
        ]
    ).on_conflict(
        target=(PeriodRequest.period, PeriodRequest.person, PeriodRequest.activity_day),
        action="DO NOTHING",
    )
    rows = await PeriodRequest.select(PeriodRequest.person, PeriodRequest.activity_day).where(
        PeriodRequest.person.is_in(sorted({r.person_id for r in requests}))
        & PeriodRequest.activity_day.is_in(sorted({r.activity_day_id for r in requests}))
        & (PeriodRequest.status == RequestStatus.WAITING.value)
    )
    return {(int(r["person"]), int(r["activity_day"])) for r in rows}


@dataclass(frozen=True)
class WaitingRequest:
    """A request of the family still waiting for its period's allocation (Suivi)."""

    id: int
    day: date
    activity: str
    person: str
    state_label: str


async def family_waiting_requests(
    family_id: int,
    tz: ZoneInfo,
    *,
    person_id: int | None = None,
    activity_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[WaitingRequest]:
    """The family's requests waiting for an allocation, by day (scoped to the family), within
    the same child, activity and dates as the Suivi they are shown with."""
    where = (PeriodRequest.family == family_id) & (
        PeriodRequest.status == RequestStatus.WAITING.value
    )
    if person_id is not None:
        where &= PeriodRequest.person == person_id
    if activity_id is not None:
        where &= PeriodRequest.activity_day._.activity == activity_id
    if start is not None:
        where &= PeriodRequest.activity_day._.day >= start
    if end is not None:
        where &= PeriodRequest.activity_day._.day <= end
    rows = await (
        PeriodRequest.select(
            PeriodRequest.id,
            PeriodRequest.period,
            PeriodRequest.activity_day._.day,
            PeriodRequest.activity_day._.activity._.name,
            PeriodRequest.person._.first_name,
            PeriodRequest.person._.last_name,
        )
        .where(where)
        .order_by(PeriodRequest.activity_day._.day)
        .order_by(PeriodRequest.id)
        .output(nested=False)
    )
    if not rows:
        return []
    periods = {
        int(r["id"]): period_of_row(r, ())
        for r in await BookingPeriod.select().where(
            BookingPeriod.id.is_in(sorted({int(r["period"]) for r in rows}))
        )
    }
    return [
        WaitingRequest(
            id=int(r["id"]),
            day=r["activity_day.day"],
            activity=str(r["activity_day.activity.name"]),
            person=f"{r['person.first_name']} {r['person.last_name']}",
            state_label=waiting_label(periods[int(r["period"])], tz).capitalize(),
        )
        for r in rows
    ]


async def any_window_open(now: datetime | None = None) -> bool:
    """Whether some period is collecting requests right now (the waiting room says then
    that arriving first gives no advantage)."""
    from portal import clock

    now = now or clock.utcnow()
    row = await (
        BookingPeriod.select(BookingPeriod.id)
        .where(
            BookingPeriod.mode.is_in([PeriodMode.LOTTERY.value, PeriodMode.PRIORITY.value])
            & (BookingPeriod.opens_at <= now)
            & (BookingPeriod.window_ends_at > now)
        )
        .first()
    )
    return row is not None
