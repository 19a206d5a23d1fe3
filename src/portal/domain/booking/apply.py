"""Applying the basket to the register, in one pass.

One write transaction for the basket: its days are locked first, in id order
(``SELECT ... FOR UPDATE`` on PostgreSQL; the one writer of SQLite), before any
reservation is read or written, so that two baskets, a cancellation, a promotion and a staff
decision on the same days queue instead of deadlocking. Then the family's live reservations
of those dates are read with one query (duplicates and incompatible hours), every item is
decided on the locked counters, the counters are claimed with one conditional UPDATE per
day and the new reservations and movements are inserted in batches.

Each item's outcome is its own (an item's refusal does not stop the others, the remark is
the item's); CHECK constraints stay the backstop. A transient database failure (lock
timeout, deadlock, serialisation) is retried once, then every item of the basket is
answered "Non traitée, réessayez" and left in the basket: never a half-applied basket.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from portal import clock
from portal.db import is_sqlite, placeholders, write_transaction
from portal.domain.booking import deadlines, decisions, hours, opening
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.on_behalf import NO_OVERRIDE, Booker, Overridden, Override
from portal.domain.booking.scope import (
    LIVE_STATUSES,
    SHOWN_STATUSES,
    BookingError,
    BookingScope,
    load_scope,
)
from portal.domain.booking.states import DraftAction
from portal.domain.money import service as money
from portal.domain.notifications.service import queue_promotion_emails
from portal.domain.reservation_status import MovementKind, ReservationStatus
from portal.tables import ActivityDay, Movement, Reservation

log = logging.getLogger(__name__)

RETRY_REMARK = "Non traitée, réessayez"
GONE = "Cette journée n'existe plus."


class ItemOutcome(StrEnum):
    """What became of one basket item (the result page and the recap read it)."""

    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    PENDING = "pending"
    REFUSED = "refused"  # recorded as a refused reservation
    REJECTED = "rejected"  # nothing recorded
    CANCELLED = "cancelled"
    UNCHANGED = "unchanged"
    NOT_PROCESSED = "not_processed"  # a transient failure: still in the basket
    REQUESTED = "requested"  # a booking period's window: waits for the allocation


@dataclass(frozen=True)
class ItemResult:
    item: BasketItem
    outcome: ItemOutcome
    remark: str | None
    waitlist_rank: int | None = None
    # What a clerk's override was needed for (empty for every parent's item).
    overridden: tuple[Overridden, ...] = ()
    reservation_id: int | None = None

    @property
    def plainly_accepted(self) -> bool:
        return self.outcome in (ItemOutcome.ACCEPTED, ItemOutcome.CANCELLED) and self.remark is None


_REMARK_OF_STATUS = {
    ReservationStatus.ACCEPTED: None,
    ReservationStatus.WAITLISTED: decisions.Remark.WAITLISTED.label,
    ReservationStatus.PENDING: decisions.Remark.PENDING.label,
    ReservationStatus.REFUSED: decisions.Remark.FULL.label,
}


# --- locking days ----------------------------------------------------------------------


@dataclass
class LockedDay:
    id: int
    activity_id: int
    day: date
    is_open: bool
    capacity: int | None
    waitlist_capacity: int | None
    accepted_count: int
    waitlisted_count: int

    @property
    def counters(self) -> decisions.DayCounters:
        return decisions.DayCounters(
            self.capacity, self.waitlist_capacity, self.accepted_count, self.waitlisted_count
        )


async def lock_days(day_ids: Iterable[int]) -> dict[int, LockedDay]:
    """Lock the activity days (ascending ids, the one lock order) and read their counters.

    Must run inside write_transaction(). Every writer of reservations takes its days'
    locks this way before touching a reservation, so concurrent writers never deadlock.
    """
    ids = sorted(set(day_ids))
    if not ids:
        return {}
    query = (
        ActivityDay.select(
            ActivityDay.id,
            ActivityDay.activity,
            ActivityDay.day,
            ActivityDay.is_open,
            ActivityDay.capacity,
            ActivityDay.waitlist_capacity,
            ActivityDay.accepted_count,
            ActivityDay.waitlisted_count,
        )
        .where(ActivityDay.id.is_in(ids))
        .order_by(ActivityDay.id)
    )
    if not is_sqlite():  # SQLite: the write transaction already holds the only write lock
        query = query.lock_rows("UPDATE")
    return {
        int(r["id"]): LockedDay(
            id=int(r["id"]),
            activity_id=int(r["activity"]),
            day=r["day"],
            is_open=bool(r["is_open"]),
            capacity=r["capacity"],
            waitlist_capacity=r["waitlist_capacity"],
            accepted_count=int(r["accepted_count"]),
            waitlisted_count=int(r["waitlisted_count"]),
        )
        for r in await query
    }


# --- applying the basket -------------------------------------------------------------


@dataclass(frozen=True)
class _Ready:
    """A basket item that passed the checks needing no database."""

    item: BasketItem
    time_range: hours.TimeRange | None = None  # bookings
    quantity: int = 1


def _transient_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    import asyncpg

    return (
        sqlite3.OperationalError,  # "database is locked" from another process
        sqlite3.IntegrityError,  # a unique key raced: the retry sees the other row
        asyncpg.exceptions.DeadlockDetectedError,
        asyncpg.exceptions.SerializationError,
        asyncpg.exceptions.LockNotAvailableError,
        asyncpg.exceptions.QueryCanceledError,
        asyncpg.exceptions.UniqueViolationError,
        asyncpg.exceptions.TooManyConnectionsError,
        CounterConflict,
        ConnectionError,
        TimeoutError,
    )


# Called inside the basket's transaction with its decided items (the staff audit entry).
InTransaction = Callable[[Sequence[ItemResult]], Awaitable[None]]


async def apply_basket(
    account_id: int,
    family_id: int,
    basket: Basket,
    now: datetime | None = None,
    *,
    booker: Booker = Booker.PARENT,
    override: Override = NO_OVERRIDE,
    in_transaction: InTransaction | None = None,
    health_sealed: bool = False,
) -> list[ItemResult]:
    """Decide every item on its own; the basket is emptied of what was processed.

    ``booker``, ``override``, ``in_transaction`` and ``health_sealed`` are for a clerk
    booking on the family's behalf (portal.domain.staff.on_behalf); a parent's basket uses
    none of them.
    """
    now = now or clock.utcnow()
    scope = (await load_scope(family_id)).acting(booker, override, health_sealed=health_sealed)
    wallet_types = {a.wallet_type_id for a in scope.activities.values()}
    if not wallet_types <= scope.wallet_of_type.keys():
        # Wallets are made when a family first books (pages only read them).
        async with write_transaction():
            await money.ensure_wallets(family_id)
    # Cancellations first: a place freed by the family can serve its own new request.
    ordered = basket.cancellations() + basket.bookings()
    early: dict[str, ItemResult] = {}
    ready: list[_Ready] = []
    for item in ordered:
        try:
            checked = _check(scope, item)
        except BookingError as exc:
            checked = ItemResult(item, ItemOutcome.REJECTED, str(exc))
        if isinstance(checked, ItemResult):
            early[item.key] = checked
        else:
            ready.append(checked)
    # Days of a scheduled opening: kept before it, requested during a window.
    ready, routed = await _route_periods(scope, ready, now)
    early.update(routed)
    decided: dict[str, ItemResult] = {}
    for attempt in (1, 2):
        try:
            # Promotion e-mails are queued in the transaction, relayed after its commit.
            decided, _promoted = await _apply_in_one_pass(scope, ready, now, in_transaction)
            break
        except _transient_errors() as exc:
            log.warning("panier de la famille %s, essai %s : %s", family_id, attempt, exc)
    else:
        decided = {
            r.item.key: ItemResult(r.item, ItemOutcome.NOT_PROCESSED, RETRY_REMARK) for r in ready
        }
    results = []
    for item in ordered:
        result = early.get(item.key) or decided[item.key]
        results.append(result)
        if result.outcome is not ItemOutcome.NOT_PROCESSED:
            basket.remove(item.person_id, item.activity_day_id)
    return results


BEFORE_OPENING_REMARK = (
    "Rien n'est décidé avant l'ouverture du {when} : ce jour reste dans votre panier, "
    "validez-le à partir de l'ouverture."
)
ALLOCATING_REMARK = (
    "L'attribution des places de cette période est en cours : ce jour reste dans votre "
    "panier, validez-le de nouveau dans quelques minutes."
)


async def _route_periods(
    scope: BookingScope, ready: list[_Ready], now: datetime
) -> tuple[list[_Ready], dict[str, ItemResult]]:
    """Take out the bookings of days that a booking period governs right now: before its
    opening (kept in the basket, nothing decided), during its window (recorded as a request
    holding no place) or while it is being allocated (kept in the basket); and the
    cancellations of requests still waiting for their allocation (withdrawn)."""
    ready, withdrawn = await _withdraw_requests(scope, ready)
    bookings = [r for r in ready if r.item.action is DraftAction.BOOK]
    if not bookings:
        return ready, withdrawn
    periods = opening.periods_covering(
        scope.periods,
        {r.item.activity_id for r in bookings},
        min(r.item.day for r in bookings),
        max(r.item.day for r in bookings),
    )
    if not periods:
        return ready, withdrawn
    rest: list[_Ready] = []
    routed: dict[str, ItemResult] = dict(withdrawn)
    window: list[tuple[_Ready, opening.OpeningPeriod]] = []
    for r in ready:
        period = (
            opening.find(periods, r.item.activity_id, r.item.day)
            if r.item.action is DraftAction.BOOK
            else None
        )
        phase = period.phase(now) if period else opening.Phase.OPEN
        if period is None or phase is opening.Phase.OPEN:
            rest.append(r)
        elif phase is opening.Phase.BEFORE_OPENING:
            when = opening.local_label(period.opens_at, scope.tz)
            remark = BEFORE_OPENING_REMARK.format(when=when)
            routed[r.item.key] = ItemResult(r.item, ItemOutcome.NOT_PROCESSED, remark)
        elif phase is opening.Phase.ALLOCATING:
            routed[r.item.key] = ItemResult(r.item, ItemOutcome.NOT_PROCESSED, ALLOCATING_REMARK)
        else:
            window.append((r, period))
    if window:
        routed.update(await _request_in_window(scope, window, now))
    return rest, routed


async def _withdraw_requests(
    scope: BookingScope, ready: list[_Ready]
) -> tuple[list[_Ready], dict[str, ItemResult]]:
    """Cancel requests still waiting for an allocation that has not frozen them yet."""
    cancels = [r for r in ready if r.item.action is DraftAction.CANCEL]
    if not cancels:
        return ready, {}
    waiting = await opening.waiting_pairs(
        scope.family_id, [r.item.activity_day_id for r in cancels]
    )
    mine = [r for r in cancels if (r.item.person_id, r.item.activity_day_id) in waiting]
    if not mine:
        return ready, {}
    async with write_transaction():
        gone = await opening.withdraw_requests(
            scope.family_id, [(r.item.person_id, r.item.activity_day_id) for r in mine]
        )
    results = {
        r.item.key: ItemResult(r.item, ItemOutcome.CANCELLED, None)
        if (r.item.person_id, r.item.activity_day_id) in gone
        else ItemResult(r.item, ItemOutcome.REJECTED, WITHDRAW_TOO_LATE)
        for r in mine
    }
    return [r for r in ready if r.item.key not in results], results


WITHDRAW_TOO_LATE = "L'attribution des places a commencé : cette demande ne peut plus être retirée."


async def _request_in_window(
    scope: BookingScope, window: list[tuple[_Ready, opening.OpeningPeriod]], now: datetime
) -> dict[str, ItemResult]:
    """Record window requests: the day must be open and within its booking deadline;
    no counter moves, no place is held."""
    results: dict[str, ItemResult] = {}
    days = {
        int(row["id"]): row
        for row in await ActivityDay.select(
            ActivityDay.id, ActivityDay.activity, ActivityDay.day, ActivityDay.is_open
        ).where(ActivityDay.id.is_in(sorted({r.item.activity_day_id for r, _ in window})))
    }
    wanted: list[tuple[_Ready, opening.OpeningPeriod]] = []
    for r, period in window:
        row = days.get(r.item.activity_day_id)
        activity = scope.activities[r.item.activity_id]
        if row is None or int(row["activity"]) != activity.id or row["day"] != r.item.day:
            results[r.item.key] = ItemResult(r.item, ItemOutcome.REJECTED, GONE)
        elif not row["is_open"] or not deadlines.is_booking_open(
            now, None, activity.booking_rule, r.item.day, scope.tz
        ):
            results[r.item.key] = ItemResult(
                r.item, ItemOutcome.REJECTED, decisions.Remark.CLOSED.label
            )
        else:
            wanted.append((r, period))
    if not wanted:
        return results
    async with write_transaction():
        waiting = await opening.record_requests(
            [
                opening.NewRequest(
                    period_id=period.id,
                    family_id=scope.family_id,
                    person_id=r.item.person_id,
                    activity_day_id=r.item.activity_day_id,
                    arrival=r.item.arrival,
                    departure=r.item.departure,
                    quantity=r.quantity,
                )
                for r, period in wanted
            ],
            now,
        )
    for r, period in wanted:
        if (r.item.person_id, r.item.activity_day_id) in waiting:
            label = opening.waiting_label(period, scope.tz)
            results[r.item.key] = ItemResult(r.item, ItemOutcome.REQUESTED, label.capitalize())
        else:  # already decided by an allocation of this period
            results[r.item.key] = ItemResult(r.item, ItemOutcome.UNCHANGED, "Déjà demandé")
    return results


def _check(scope: BookingScope, item: BasketItem) -> ItemResult | _Ready:
    activity = scope.activities.get(item.activity_id)
    scope.person(item.person_id)
    if activity is None:
        raise BookingError("Activité inconnue.")
    if item.action is DraftAction.CANCEL:
        return _Ready(item)
    reasons = scope.block_reasons(item.person_id, item.activity_id)
    if reasons:
        return ItemResult(item, ItemOutcome.REJECTED, reasons[0].message)
    quantity = 1
    if activity.time_entry:
        rule = activity.time_rule
        assert rule is not None
        if item.arrival is None or item.departure is None:
            return ItemResult(
                item, ItemOutcome.REJECTED, "Horaires d'arrivée et de départ manquants."
            )
        check = hours.check_time_entry(rule, item.arrival, item.departure)
        if not check.ok or check.quantity is None:
            return ItemResult(item, ItemOutcome.REJECTED, " ".join(check.errors))
        quantity = check.quantity
    return _Ready(item, activity.time_range(item.arrival, item.departure), quantity)


async def _apply_in_one_pass(
    scope: BookingScope,
    ready: Sequence[_Ready],
    now: datetime,
    in_transaction: InTransaction | None = None,
) -> tuple[dict[str, ItemResult], list[int]]:
    if not ready:
        return {}, []
    results: dict[str, ItemResult] = {}
    promoted: list[int] = []
    cancels = [r for r in ready if r.item.action is DraftAction.CANCEL]
    bookings = [r for r in ready if r.item.action is DraftAction.BOOK]
    day_ids = [r.item.activity_day_id for r in ready]
    async with write_transaction():
        days = await lock_days(day_ids)
        for r in cancels:
            result, movement_ids = await _cancel(
                scope, r.item, days.get(r.item.activity_day_id), now
            )
            results[r.item.key] = result
            promoted.extend(movement_ids)
        if bookings:
            if cancels:  # counters moved (cancellations, promotions): read them again
                days = await lock_days(day_ids)
            results.update(await _book(scope, bookings, days, now))
        if in_transaction is not None:
            await in_transaction(list(results.values()))
    return results, promoted


@dataclass
class _Live:
    """A live reservation of the family's children on one of the basket's dates."""

    person_id: int
    activity_day_id: int
    activity_id: int
    day: date
    arrival: time | None
    departure: time | None


async def _live_reservations(person_ids: Iterable[int], dates: Iterable[date]) -> list[_Live]:
    # Raw SQL: read in every confirmation, where Piccolo's building of the joined select
    # cost more than the query.
    people = sorted(set(person_ids))
    days = sorted(set(dates))
    statuses = sorted(s.value for s in LIVE_STATUSES)
    rows = await Reservation.raw(
        "SELECT r.person, r.activity_day, r.arrival, r.departure, d.activity, d.day"  # noqa: S608
        " FROM reservation r JOIN activity_day d ON d.id = r.activity_day"
        f" WHERE r.person IN ({placeholders(len(people))})"
        f" AND d.day IN ({placeholders(len(days))})"
        f" AND r.status IN ({placeholders(len(statuses))})",
        *people,
        *days,
        *statuses,
    )
    return [
        _Live(
            int(r["person"]),
            int(r["activity_day"]),
            int(r["activity"]),
            clock.as_date(r["day"]),
            clock.as_time(r["arrival"]),
            clock.as_time(r["departure"]),
        )
        for r in rows
    ]


async def _book(
    scope: BookingScope, bookings: Sequence[_Ready], days: dict[int, LockedDay], now: datetime
) -> dict[str, ItemResult]:
    results: dict[str, ItemResult] = {}
    live = await _live_reservations(
        (r.item.person_id for r in bookings), (r.item.day for r in bookings)
    )
    taken = {(x.person_id, x.activity_day_id) for x in live}
    by_person_day: dict[tuple[int, date], list[_Live]] = defaultdict(list)
    for x in live:
        by_person_day[(x.person_id, x.day)].append(x)
    claimed: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))  # day -> (acc, wait)
    raised: dict[int, int] = defaultdict(int)  # day -> places added by a clerk's override
    rows: list[_NewReservation] = []
    keys: list[tuple[str, ItemOutcome, int | None, tuple[Overridden, ...]]] = []
    for r in bookings:
        item = r.item
        activity = scope.activities[item.activity_id]
        day = days.get(item.activity_day_id)
        if day is None or day.activity_id != activity.id or day.day != item.day:
            results[item.key] = ItemResult(
                item, ItemOutcome.REJECTED, "Cette journée n'existe plus."
            )
            continue
        if (item.person_id, day.id) in taken:
            results[item.key] = ItemResult(item, ItemOutcome.UNCHANGED, "Déjà réservé")
            continue
        others = [
            a.time_range(x.arrival, x.departure)
            for x in by_person_day[(item.person_id, day.day)]
            if x.activity_day_id != day.id and (a := scope.activities.get(x.activity_id))
        ]
        assert r.time_range is not None
        in_time = deadlines.is_booking_open(
            now, activity.opens_at, activity.booking_rule, day.day, scope.tz
        )
        overridden: list[Overridden] = []
        if not in_time and scope.override.deadlines:
            overridden.append(Overridden.DEADLINE)
        decision = decisions.decide_booking(
            day.counters,
            needs_staff_decision=activity.needs_decision,
            day_open=day.is_open,
            booking_open=in_time or scope.override.deadlines,
            incompatible=not hours.is_compatible(r.time_range, others),
        )
        if (
            scope.override.capacity
            and decision.status in (ReservationStatus.WAITLISTED, ReservationStatus.REFUSED)
            and day.capacity is not None
        ):
            # The clerk's override: one more place on this day, so that the CHECK on the
            # counters still holds and the day's capacity tells what was granted.
            day.capacity += 1
            raised[day.id] += 1
            overridden.append(Overridden.CAPACITY)
            decision = decisions.decide_booking(day.counters)
        status = decision.status
        if status is None:
            remark = decision.remark.label if decision.remark else None
            results[item.key] = ItemResult(item, ItemOutcome.REJECTED, remark)
            continue
        rank = None
        accepted, waiting = claimed[day.id]
        if status is ReservationStatus.ACCEPTED:
            day.accepted_count += 1
            claimed[day.id] = (accepted + 1, waiting)
        elif status is ReservationStatus.WAITLISTED:
            day.waitlisted_count += 1
            claimed[day.id] = (accepted, waiting + 1)
            rank = day.waitlisted_count  # ranks stay contiguous (see _close_waitlist_gap)
        taken.add((item.person_id, day.id))
        by_person_day[(item.person_id, day.day)].append(
            _Live(item.person_id, day.id, activity.id, day.day, item.arrival, item.departure)
        )
        rows.append(
            _NewReservation(
                person_id=item.person_id,
                activity_day_id=day.id,
                status=status,
                arrival=item.arrival if activity.time_entry else None,
                departure=item.departure if activity.time_entry else None,
                quantity=r.quantity,
                waitlist_rank=rank,
            )
        )
        keys.append((item.key, ItemOutcome(status.value), rank, tuple(overridden)))
    for day_id, places in sorted(raised.items()):
        await ActivityDay.raw(
            "UPDATE activity_day SET capacity = capacity + {} WHERE id = {}", places, day_id
        )
    await claim_counters(claimed)
    reservation_ids = await _insert_bookings(scope, rows, now)
    by_key = {r.item.key: r.item for r in bookings}
    for (key, outcome, rank, overridden_), reservation_id in zip(
        keys, reservation_ids, strict=True
    ):
        remark = _REMARK_OF_STATUS[ReservationStatus(outcome.value)]
        results[key] = ItemResult(by_key[key], outcome, remark, rank, overridden_, reservation_id)
    return results


@dataclass(frozen=True)
class _NewReservation:
    person_id: int
    activity_day_id: int
    status: ReservationStatus
    arrival: time | None
    departure: time | None
    quantity: int
    waitlist_rank: int | None


async def _insert_bookings(
    scope: BookingScope, rows: Sequence[_NewReservation], now: datetime
) -> list[int]:
    """The confirmation's reservations and their movements (each movement's outcome is its
    reservation's status) in one INSERT each; the ids in the order of ``rows``. Raw SQL:
    Piccolo built each row's values column by column, a tenth of a confirmation's CPU."""
    if not rows:
        return []
    inserted = await Reservation.raw(
        "INSERT INTO reservation (family, person, activity_day, status, arrival, departure,"  # noqa: S608
        " quantity, waitlist_rank, confirmed_at, transmitted_at, absent, absence_justified,"
        " created_by, updated_at) VALUES "
        + ", ".join(f"({placeholders(9)}, NULL, {placeholders(4)})" for _ in rows)
        + " RETURNING id, person, activity_day",
        *(
            value
            for row in rows
            for value in (
                scope.family_id, row.person_id, row.activity_day_id, row.status.value,
                row.arrival, row.departure, row.quantity, row.waitlist_rank, now,
                False, False, scope.booker.value, now,
            )
        ),
    )  # fmt: skip
    # Matched by (person, day), unique in one confirmation: neither engine promises the
    # order of RETURNING rows.
    ids = {(int(r["person"]), int(r["activity_day"])): int(r["id"]) for r in inserted}
    reservation_ids = [ids[(row.person_id, row.activity_day_id)] for row in rows]
    await Movement.raw(
        "INSERT INTO movement (family, reservation, kind, outcome, actor, created_at,"  # noqa: S608
        " transmitted_at, reported_at) VALUES "
        + ", ".join(f"({placeholders(6)}, NULL, NULL)" for _ in rows),
        *(
            value
            for row, reservation_id in zip(rows, reservation_ids, strict=True)
            for value in (
                scope.family_id, reservation_id, MovementKind.BOOK.value, row.status.value,
                scope.booker.value, now,
            )
        ),
    )  # fmt: skip
    return reservation_ids


class CounterConflict(RuntimeError):
    """A locked day's counters did not accept the claim (should not happen; retried)."""


async def claim_counters(claimed: dict[int, tuple[int, int]]) -> None:
    """One conditional UPDATE for all the days (they are locked: it is a re-check): each
    day's counters move only if its places and waiting places allow the claim."""
    wanted = {day: counts for day, counts in claimed.items() if counts != (0, 0)}
    if not wanted:
        return
    values = ", ".join(
        "(CAST({} AS INTEGER), CAST({} AS INTEGER), CAST({} AS INTEGER))" for _ in wanted
    )
    rows = await ActivityDay.raw(
        f"WITH claim (day_id, accepted, waiting) AS (VALUES {values})"  # noqa: S608
        " UPDATE activity_day SET accepted_count = accepted_count + claim.accepted,"
        " waitlisted_count = waitlisted_count + claim.waiting"
        " FROM claim WHERE activity_day.id = claim.day_id"
        " AND (claim.accepted = 0 OR activity_day.capacity IS NULL"
        " OR activity_day.accepted_count + claim.accepted <= activity_day.capacity)"
        " AND (claim.waiting = 0 OR activity_day.waitlist_capacity IS NULL"
        " OR activity_day.waitlisted_count + claim.waiting <= activity_day.waitlist_capacity)"
        " RETURNING activity_day.id",
        *(value for day, (accepted, waiting) in sorted(wanted.items())
          for value in (day, accepted, waiting)),
    )  # fmt: skip
    refused = set(wanted) - {int(r["id"]) for r in rows}
    if refused:
        raise CounterConflict(min(refused))


async def _cancel(
    scope: BookingScope, item: BasketItem, day: LockedDay | None, now: datetime
) -> tuple[ItemResult, list[int]]:
    """Cancel one reservation; its day is already locked."""
    activity = scope.activities[item.activity_id]
    if day is None:
        return ItemResult(item, ItemOutcome.REJECTED, GONE), []
    reservation = await (
        Reservation.select(Reservation.id, Reservation.status)
        .where(
            (Reservation.person == item.person_id)
            & (Reservation.family == scope.family_id)
            & (Reservation.activity_day == day.id)
            & Reservation.status.is_in(list(SHOWN_STATUSES))
        )
        .first()
    )
    if reservation is None:
        return ItemResult(item, ItemOutcome.UNCHANGED, "Réservation déjà annulée"), []
    status = ReservationStatus(reservation["status"])
    in_time = deadlines.is_cancellation_open(now, activity.cancellation_rule, day.day, scope.tz)
    decision = decisions.decide_cancellation(
        status, cancellation_open=in_time or scope.override.deadlines
    )
    if not decision.allowed:
        return ItemResult(item, ItemOutcome.REJECTED, decisions.Remark.LATE.label), []
    claimed = await Reservation.raw(
        "UPDATE reservation SET status = {}, waitlist_rank = NULL, "
        # Untransmitted again: the cancellation leaves with tonight's transmission.
        "transmitted_at = NULL, updated_at = {} "
        "WHERE id = {} AND status = {} RETURNING id",
        ReservationStatus.CANCELLED,
        now,
        reservation["id"],
        status,
    )
    if not claimed:
        return ItemResult(item, ItemOutcome.UNCHANGED, "Réservation déjà annulée"), []
    if status is ReservationStatus.ACCEPTED:
        await ActivityDay.raw(
            "UPDATE activity_day SET accepted_count = accepted_count - 1 WHERE id = {}", day.id
        )
        day.accepted_count -= 1
    elif status is ReservationStatus.WAITLISTED:
        await ActivityDay.raw(
            "UPDATE activity_day SET waitlisted_count = waitlisted_count - 1 WHERE id = {}",
            day.id,
        )
        day.waitlisted_count -= 1
        await _close_waitlist_gap(day.id)
    await Movement.insert(
        Movement(
            family=scope.family_id,
            reservation=reservation["id"],
            kind=MovementKind.CANCEL,
            outcome=ReservationStatus.CANCELLED,
            actor=scope.booker.value,
            created_at=now,
        )
    )
    promoted: list[int] = []
    if decision.frees_place:
        promoted = await promote_waitlist(day.id, now)
    late = () if in_time else (Overridden.DEADLINE,)
    return ItemResult(
        item, ItemOutcome.CANCELLED, None, overridden=late, reservation_id=int(reservation["id"])
    ), promoted


async def _close_waitlist_gap(day_id: int) -> None:
    """Renumber the waitlist 1..n in confirmation order (ascending, so no rank collides)."""
    rows = await Reservation.select(
        Reservation.id, Reservation.confirmed_at, Reservation.waitlist_rank
    ).where(
        (Reservation.activity_day == day_id) & (Reservation.status == ReservationStatus.WAITLISTED)
    )
    ranks = decisions.waitlist_ranks(
        decisions.WaitlistEntry(r["id"], r["confirmed_at"]) for r in rows
    )
    current = {r["id"]: r["waitlist_rank"] for r in rows}
    for reservation_id, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if current[reservation_id] != rank:
            await Reservation.update({Reservation.waitlist_rank: rank}).where(
                Reservation.id == reservation_id
            )


async def promote_waitlist(day_id: int, now: datetime, actor: str = "system") -> list[int]:
    """Fill free places of a day from its waitlist; returns the promotion movement ids.

    Must run inside write_transaction() (cancellation, capacity raise by staff); takes the
    day's lock first (the lock order of every booking writer).
    """
    locked = await lock_days([day_id])
    day = locked.get(day_id)
    if day is None:
        raise BookingError("Cette journée n'existe plus.")
    rows = await Reservation.select(
        Reservation.id, Reservation.confirmed_at, Reservation.family
    ).where(
        (Reservation.activity_day == day_id) & (Reservation.status == ReservationStatus.WAITLISTED)
    )
    chosen = decisions.promotions(
        day.counters, [decisions.WaitlistEntry(r["id"], r["confirmed_at"]) for r in rows]
    )
    if not chosen:
        return []
    family_of = {r["id"]: r["family"] for r in rows}
    ids = [entry.reservation_id for entry in chosen]
    # The day is locked and the count is within capacity: one UPDATE each side.
    taken = await ActivityDay.raw(
        "UPDATE activity_day SET accepted_count = accepted_count + {}, "
        "waitlisted_count = waitlisted_count - {} WHERE id = {} "
        "AND (capacity IS NULL OR accepted_count + {} <= capacity) RETURNING id",
        len(ids),
        len(ids),
        day_id,
        len(ids),
    )
    if not taken:
        raise CounterConflict(day_id)
    await Reservation.update(
        {
            Reservation.status: ReservationStatus.ACCEPTED,
            Reservation.waitlist_rank: None,
            Reservation.transmitted_at: None,
            Reservation.updated_at: now,
        }
    ).where(Reservation.id.is_in(ids))
    inserted = await Movement.insert(
        *[
            Movement(
                family=family_of[reservation_id],
                reservation=reservation_id,
                kind=MovementKind.PROMOTION,
                outcome=ReservationStatus.ACCEPTED,
                actor=actor,
                created_at=now,
            )
            for reservation_id in ids
        ]
    ).returning(Movement.id)
    movement_ids = [int(row["id"]) for row in inserted]
    await _close_waitlist_gap(day_id)
    await queue_promotion_emails(movement_ids)
    return movement_ids
