"""Applying the basket to the register.

Capacity counters change only by conditional UPDATEs inside write_transaction(), one item
per transaction, so an item's outcome never depends on another item of the same basket and
no interleaving can oversell a day (CHECK constraints are the backstop).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from portal import clock
from portal.db import write_transaction
from portal.domain.booking import deadlines, decisions, hours
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.scope import (
    LIVE_STATUSES,
    SHOWN_STATUSES,
    BookingError,
    BookingScope,
    load_scope,
)
from portal.domain.booking.states import (
    DraftAction,
    ReservationStatus,
)
from portal.domain.money import service as money
from portal.domain.notifications.service import queue_promotion_emails
from portal.tables import (
    ActivityDay,
    Movement,
    Reservation,
)

log = logging.getLogger(__name__)

# --- applying the basket -------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    item: BasketItem
    outcome: str  # accepted, waitlisted, pending, refused, rejected, cancelled, unchanged
    remark: str | None
    waitlist_rank: int | None = None

    @property
    def plainly_accepted(self) -> bool:
        return self.outcome in ("accepted", "cancelled") and self.remark is None


async def apply_basket(
    account_id: int, family_id: int, basket: Basket, now: datetime | None = None
) -> list[ItemResult]:
    """Decide every item on its own; the basket is emptied of what was processed."""
    now = now or clock.utcnow()
    scope = await load_scope(family_id)
    wallet_types = {a.wallet_type_id for a in scope.activities.values()}
    if not wallet_types <= scope.wallet_of_type.keys():
        # Wallets are made when a family first books (pages only read them).
        async with write_transaction():
            await money.ensure_wallets(family_id)
    results: list[ItemResult] = []
    promoted: list[int] = []
    # Cancellations first: a place freed by the family can serve its own new request.
    ordered = basket.cancellations() + basket.bookings()
    for item in ordered:
        try:
            if item.action is DraftAction.CANCEL:
                result, movement_ids = await _apply_cancellation(scope, item, now)
                promoted.extend(movement_ids)
            else:
                result = await _apply_booking(scope, item, now)
        except BookingError as exc:
            result = ItemResult(item, "rejected", str(exc))
        results.append(result)
        basket.remove(item.person_id, item.activity_day_id)
    return results


async def _lock_day(day_id: int) -> ActivityDay:
    row = await ActivityDay.objects().get(ActivityDay.id == day_id)
    if row is None:
        raise BookingError("Cette journée n'existe plus.")
    return row


async def _apply_booking(scope: BookingScope, item: BasketItem, now: datetime) -> ItemResult:
    activity = scope.activities.get(item.activity_id)
    scope.person(item.person_id)
    if activity is None:
        raise BookingError("Activité inconnue.")
    reasons = scope.block_reasons(item.person_id, item.activity_id)
    if reasons:
        return ItemResult(item, "rejected", reasons[0].message)
    time_range = activity.time_range(item.arrival, item.departure)
    quantity = 1
    if activity.time_entry:
        rule = activity.time_rule
        assert rule is not None
        if item.arrival is None or item.departure is None:
            return ItemResult(item, "rejected", "Horaires d'arrivée et de départ manquants.")
        check = hours.check_time_entry(rule, item.arrival, item.departure)
        if not check.ok or check.quantity is None:
            return ItemResult(item, "rejected", " ".join(check.errors))
        quantity = check.quantity
    try:
        async with write_transaction():
            day = await _lock_day(item.activity_day_id)
            if int(day.activity) != activity.id or day.day != item.day:
                raise BookingError("Cette journée n'existe plus.")
            existing = await Reservation.exists().where(
                (Reservation.person == item.person_id)
                & (Reservation.activity_day == day.id)
                & Reservation.status.is_in(list(LIVE_STATUSES))
            )
            if existing:
                return ItemResult(item, "unchanged", "Déjà réservé")
            incompatible = not hours.is_compatible(
                time_range, await _other_ranges(scope, item.person_id, day.day, day.id)
            )
            decision = decisions.decide_booking(
                decisions.DayCounters(
                    day.capacity, day.waitlist_capacity, day.accepted_count, day.waitlisted_count
                ),
                needs_staff_decision=activity.needs_decision,
                day_open=day.is_open,
                booking_open=deadlines.is_booking_open(
                    now, activity.opens_at, activity.booking_rule, day.day, scope.tz
                ),
                incompatible=incompatible,
            )
            status, rank = await _take_place(day.id, decision)
            if status is None:
                return ItemResult(
                    item, "rejected", decision.remark.label if decision.remark else None
                )
            reservation = Reservation(
                family=scope.family_id,
                person=item.person_id,
                activity_day=day.id,
                status=status,
                arrival=item.arrival if activity.time_entry else None,
                departure=item.departure if activity.time_entry else None,
                quantity=quantity,
                waitlist_rank=rank,
                confirmed_at=now,
                created_by="parent",
                updated_at=now,
            )
            await reservation.save()
            await Movement(
                family=scope.family_id,
                reservation=reservation.id,
                kind="book",
                outcome=status,
                actor="parent",
                created_at=now,
            ).save()
    except BookingError as exc:
        return ItemResult(item, "rejected", str(exc))
    remark = {
        "accepted": None,
        "waitlisted": decisions.Remark.WAITLISTED.label,
        "pending": decisions.Remark.PENDING.label,
        "refused": decisions.Remark.FULL.label,
    }[status]
    return ItemResult(item, status, remark, rank)


async def _other_ranges(
    scope: BookingScope, person_id: int, day: date, excluding_day_id: int
) -> list[hours.TimeRange]:
    rows = await Reservation.select(
        Reservation.arrival,
        Reservation.departure,
        Reservation.activity_day._.activity,
    ).where(
        (Reservation.person == person_id)
        & (Reservation.activity_day._.day == day)
        & (Reservation.activity_day != excluding_day_id)
        & Reservation.status.is_in(list(LIVE_STATUSES))
    )
    ranges = []
    for row in rows:
        activity = scope.activities.get(row["activity_day.activity"])
        if activity is not None:
            ranges.append(activity.time_range(row["arrival"], row["departure"]))
    return ranges


async def _take_place(day_id: int, decision: decisions.Decision) -> tuple[str | None, int | None]:
    """Claim the place the decision asks for with a conditional UPDATE.

    The decision was taken on counters read in this transaction; on PostgreSQL another
    transaction may have moved them since, so the UPDATE re-checks and we fall through to
    the next outcome when it matches no row.
    """
    outcome = decision.outcome
    if outcome is decisions.Outcome.REJECTED:
        return None, None
    if outcome is decisions.Outcome.PENDING:
        return "pending", None
    if outcome is decisions.Outcome.ACCEPTED:
        rows = await ActivityDay.raw(
            "UPDATE activity_day SET accepted_count = accepted_count + 1 WHERE id = {} "
            "AND (capacity IS NULL OR accepted_count < capacity) RETURNING accepted_count",
            day_id,
        )
        if rows:
            return "accepted", None
    if outcome in (decisions.Outcome.ACCEPTED, decisions.Outcome.WAITLISTED):
        rows = await ActivityDay.raw(
            "UPDATE activity_day SET waitlisted_count = waitlisted_count + 1 WHERE id = {} "
            "AND (waitlist_capacity IS NULL OR waitlisted_count < waitlist_capacity) "
            "RETURNING waitlisted_count",
            day_id,
        )
        if rows:
            # Ranks stay contiguous (see _close_waitlist_gap), so the new count is the rank.
            return "waitlisted", int(rows[0]["waitlisted_count"])
    return "refused", None


async def _apply_cancellation(
    scope: BookingScope, item: BasketItem, now: datetime
) -> tuple[ItemResult, list[int]]:
    activity = scope.activities.get(item.activity_id)
    scope.person(item.person_id)
    if activity is None:
        raise BookingError("Activité inconnue.")
    promoted: list[int] = []
    async with write_transaction():
        day = await _lock_day(item.activity_day_id)
        reservation = await Reservation.objects().get(
            (Reservation.person == item.person_id)
            & (Reservation.family == scope.family_id)
            & (Reservation.activity_day == day.id)
            & Reservation.status.is_in(list(SHOWN_STATUSES))
        )
        if reservation is None:
            return ItemResult(item, "unchanged", "Réservation déjà annulée"), []
        decision = decisions.decide_cancellation(
            ReservationStatus(reservation.status),
            cancellation_open=deadlines.is_cancellation_open(
                now, activity.cancellation_rule, day.day, scope.tz
            ),
        )
        if not decision.allowed:
            return ItemResult(item, "rejected", decisions.Remark.LATE.label), []
        claimed = await Reservation.raw(
            "UPDATE reservation SET status = 'cancelled', waitlist_rank = NULL, "
            # Untransmitted again: the cancellation leaves with tonight's transmission.
            "transmitted_at = NULL, updated_at = {} "
            "WHERE id = {} AND status = {} RETURNING id",
            now,
            reservation.id,
            reservation.status,
        )
        if not claimed:
            return ItemResult(item, "unchanged", "Réservation déjà annulée"), []
        if reservation.status == "accepted":
            await ActivityDay.raw(
                "UPDATE activity_day SET accepted_count = accepted_count - 1 WHERE id = {}", day.id
            )
        elif reservation.status == "waitlisted":
            await ActivityDay.raw(
                "UPDATE activity_day SET waitlisted_count = waitlisted_count - 1 WHERE id = {}",
                day.id,
            )
            await _close_waitlist_gap(day.id)
        await Movement(
            family=scope.family_id,
            reservation=reservation.id,
            kind="cancel",
            outcome="cancelled",
            actor="parent",
            created_at=now,
        ).save()
        if decision.frees_place:
            promoted = await promote_waitlist(day.id, now)
    return ItemResult(item, "cancelled", None), promoted


async def _close_waitlist_gap(day_id: int) -> None:
    """Renumber the waitlist 1..n in confirmation order (ascending, so no rank collides)."""
    rows = await Reservation.select(
        Reservation.id, Reservation.confirmed_at, Reservation.waitlist_rank
    ).where((Reservation.activity_day == day_id) & (Reservation.status == "waitlisted"))
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

    Must run inside write_transaction() (cancellation, capacity raise by staff).
    """
    day = await _lock_day(day_id)
    rows = await Reservation.select(
        Reservation.id, Reservation.confirmed_at, Reservation.family
    ).where((Reservation.activity_day == day_id) & (Reservation.status == "waitlisted"))
    counters = decisions.DayCounters(
        day.capacity, day.waitlist_capacity, day.accepted_count, day.waitlisted_count
    )
    chosen = decisions.promotions(
        counters, [decisions.WaitlistEntry(r["id"], r["confirmed_at"]) for r in rows]
    )
    family_of = {r["id"]: r["family"] for r in rows}
    movement_ids = []
    for entry in chosen:
        taken = await ActivityDay.raw(
            "UPDATE activity_day SET accepted_count = accepted_count + 1, "
            "waitlisted_count = waitlisted_count - 1 WHERE id = {} "
            "AND (capacity IS NULL OR accepted_count < capacity) RETURNING id",
            day_id,
        )
        if not taken:
            break
        await Reservation.update(
            {
                Reservation.status: "accepted",
                Reservation.waitlist_rank: None,
                Reservation.transmitted_at: None,
                Reservation.updated_at: now,
            }
        ).where(Reservation.id == entry.reservation_id)
        movement = Movement(
            family=family_of[entry.reservation_id],
            reservation=entry.reservation_id,
            kind="promotion",
            outcome="accepted",
            actor=actor,
            created_at=now,
        )
        await movement.save()
        movement_ids.append(movement.id)
    if movement_ids:
        await _close_waitlist_gap(day_id)
        await queue_promotion_emails(movement_ids)
    return movement_ids
