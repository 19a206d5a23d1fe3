"""Booking use cases: what a family may book, the month calendar, the basket, applying it.

Pure rules live in the sibling modules; this module loads rows, calls them, and writes.
Capacity counters change only by conditional UPDATEs inside write_transaction(), one item
per transaction, so an item's outcome never depends on another item of the same basket and
no interleaving can oversell a day (CHECK constraints are the backstop).
"""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal import clock
from portal.db import write_transaction
from portal.domain.accounts.service import current_rules_document
from portal.domain.booking import deadlines, decisions, eligibility, hours, quicktools
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.states import (
    AggregateState,
    DayFacts,
    DayView,
    DraftAction,
    ReservationStatus,
    aggregate_state,
    day_view,
)
from portal.tables import (
    Activity,
    ActivityDay,
    Enrollment,
    Family,
    LedgerEntry,
    Movement,
    Person,
    Reservation,
    RulesAcknowledgement,
    Structure,
    Tariff,
    Wallet,
    WalletType,
)

log = logging.getLogger(__name__)

LIVE_STATUSES = ("accepted", "waitlisted", "pending")
SHOWN_STATUSES = ("accepted", "waitlisted", "pending", "refused")


class BookingError(ValueError):
    """A request that cannot be taken as asked (the message is French, for the parent)."""


# --- what a family may book ----------------------------------------------------------


@dataclass(frozen=True)
class ActivityInfo:
    id: int
    name: str
    color: str
    start_time: time
    end_time: time
    needs_decision: bool
    booking_rule: deadlines.DeadlineRule | None
    cancellation_rule: deadlines.DeadlineRule | None
    opens_at: datetime | None
    time_entry: bool
    arrivals: tuple[time, ...]
    departures: tuple[time, ...]
    unit_minutes: int | None
    wallet_type_id: int
    capacity: int | None

    @property
    def time_rule(self) -> hours.TimeEntryRule | None:
        if not self.time_entry:
            return None
        return hours.TimeEntryRule(self.arrivals, self.departures, self.unit_minutes or 30)

    def time_range(self, arrival: time | None, departure: time | None) -> hours.TimeRange:
        if self.time_entry and arrival and departure:
            return hours.TimeRange(arrival, departure)
        return hours.TimeRange(self.start_time, self.end_time)


@dataclass(frozen=True)
class PersonInfo:
    id: int
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class BookingScope:
    """A family's people, their activities and standing, as of one request."""

    family_id: int
    family_name: str
    tariff_band: str
    structure_id: int
    tz: ZoneInfo
    people: list[PersonInfo]
    activities: dict[int, ActivityInfo]
    enrolled: dict[int, list[int]]  # person id -> activity ids, in display order
    signed: set[int]  # persons who acknowledged the rules in force
    standing: eligibility.FamilyStanding
    wallet_of_type: dict[int, int] = field(default_factory=dict)  # wallet type -> wallet id
    wallet_names: dict[int, str] = field(default_factory=dict)  # wallet type -> name

    def person(self, person_id: int) -> PersonInfo:
        for person in self.people:
            if person.id == person_id:
                return person
        raise BookingError("Cet enfant n'appartient pas à votre famille.")

    def activities_of(self, person_id: int) -> list[ActivityInfo]:
        return [
            self.activities[a] for a in self.enrolled.get(person_id, []) if a in self.activities
        ]

    def block_reasons(self, person_id: int, activity_id: int) -> list[eligibility.BlockReason]:
        person = self.person(person_id)
        activity = self.activities.get(activity_id)
        if activity is None:
            raise BookingError("Activité inconnue.")
        wallet_id = self.wallet_of_type.get(activity.wallet_type_id, 0)
        candidate = eligibility.BookingCandidate(
            person_first_name=person.first_name,
            activity_name=activity.name,
            wallet_id=wallet_id,
            enrolled=activity_id in self.enrolled.get(person_id, []),
            rules_acknowledged=person_id in self.signed,
        )
        return eligibility.booking_block_reasons(self.standing, candidate)

    def person_block_reasons(self, person_id: int) -> list[eligibility.BlockReason]:
        """Reasons that close booking for this person (the banner of the booking page)."""
        person = self.person(person_id)
        anything = eligibility.BookingCandidate(
            person_first_name=person.first_name,
            activity_name="",
            wallet_id=0,
            enrolled=True,
            rules_acknowledged=person_id in self.signed,
        )
        return eligibility.booking_block_reasons(
            self.standing, anything
        ) + eligibility.blocked_wallet_reasons(self.standing)


def _parse_rule(text: str) -> deadlines.DeadlineRule | None:
    return deadlines.parse_rule(text) if text else None


async def wallet_balances(family_id: int) -> dict[int, int]:
    """Balance in cents per wallet id (the sum of its ledger entries)."""
    rows = await LedgerEntry.raw(
        "SELECT wallet, SUM(amount_cents) AS total FROM ledger_entry WHERE family = {} "
        "GROUP BY wallet",
        family_id,
    )
    return {int(r["wallet"]): int(r["total"]) for r in rows}


async def load_scope(family_id: int) -> BookingScope:
    family = await Family.objects().get(Family.id == family_id)
    if family is None:
        raise BookingError("Famille inconnue.")
    structure = await Structure.objects().get(Structure.id == family.structure)
    assert structure is not None
    people_rows = (
        await Person.objects().where(Person.family == family_id).order_by(Person.birth_date)
    )
    people = [PersonInfo(p.id, p.first_name, p.last_name) for p in people_rows]
    activity_rows = await (
        Activity.objects()
        .where((Activity.structure == structure.id) & (Activity.active == True))  # noqa: E712
        .order_by(Activity.position)
        .order_by(Activity.id)
    )
    activities = {
        a.id: ActivityInfo(
            id=a.id,
            name=a.name,
            color=a.color,
            start_time=a.start_time,
            end_time=a.end_time,
            needs_decision=a.needs_decision,
            booking_rule=_parse_rule(a.booking_deadline),
            cancellation_rule=_parse_rule(a.cancellation_deadline),
            opens_at=a.booking_opens_at,
            time_entry=a.time_entry,
            arrivals=hours.parse_allowed_times(a.allowed_arrivals) if a.time_entry else (),
            departures=hours.parse_allowed_times(a.allowed_departures) if a.time_entry else (),
            unit_minutes=a.billing_unit_minutes,
            wallet_type_id=int(a.wallet_type),
            capacity=a.capacity,
        )
        for a in activity_rows
    }
    order = {activity_id: index for index, activity_id in enumerate(activities)}
    enrolled: dict[int, list[int]] = defaultdict(list)
    person_ids = [p.id for p in people]
    if person_ids:
        for row in await Enrollment.select(Enrollment.person, Enrollment.activity).where(
            Enrollment.person.is_in(person_ids)
        ):
            if row["activity"] in activities:
                enrolled[row["person"]].append(row["activity"])
    for activity_ids in enrolled.values():
        activity_ids.sort(key=lambda a: order[a])
    document = await current_rules_document(structure.id)
    signed: set[int] = set(person_ids) if document is None else set()
    if document is not None and person_ids:
        signed = {
            r["person"]
            for r in await RulesAcknowledgement.select(RulesAcknowledgement.person).where(
                (RulesAcknowledgement.document == document.id)
                & RulesAcknowledgement.person.is_in(person_ids)
            )
        }
    wallet_types = await WalletType.objects().where(WalletType.structure == structure.id)
    wallets = {
        int(w.wallet_type): w.id for w in await Wallet.objects().where(Wallet.family == family_id)
    }
    balances = await wallet_balances(family_id)
    standing = eligibility.FamilyStanding(
        file_complete=family.file_complete,
        wallets=tuple(
            eligibility.WalletStanding(
                wallet_id=wallets.get(wt.id, 0),
                name=wt.name,
                balance_cents=balances.get(wallets.get(wt.id, 0), 0),
                block_threshold_cents=wt.debt_block_cents,
            )
            for wt in sorted(wallet_types, key=lambda w: (w.position, w.id))
        ),
        global_threshold_cents=structure.debt_block_cents,
    )
    return BookingScope(
        family_id=family_id,
        family_name=family.name,
        tariff_band=family.tariff_band,
        structure_id=structure.id,
        tz=ZoneInfo(structure.timezone),
        people=people,
        activities=activities,
        enrolled=dict(enrolled),
        signed=signed,
        standing=standing,
        wallet_of_type=wallets,
        wallet_names={wt.id: wt.name for wt in wallet_types},
    )


# --- calendar ------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityDayView:
    activity: ActivityInfo
    activity_day_id: int
    view: DayView
    arrival: time | None = None  # of the person's reservation or draft
    departure: time | None = None
    waitlist_rank: int | None = None


@dataclass(frozen=True)
class CalendarCell:
    day: date
    in_month: bool
    is_today: bool
    entries: tuple[ActivityDayView, ...]  # one per activity offered that day
    aggregate: AggregateState | None
    has_drafts: bool

    @property
    def single(self) -> ActivityDayView | None:
        return self.entries[0] if len(self.entries) == 1 else None


@dataclass(frozen=True)
class MonthView:
    year: int
    month: int
    weeks: list[list[CalendarCell]]

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def previous(self) -> date:
        return (self.first - timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> date:
        return (self.first + timedelta(days=32)).replace(day=1)


def month_grid(year: int, month: int) -> list[list[date]]:
    return calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)


async def day_views(
    scope: BookingScope,
    person_id: int,
    activity_ids: Sequence[int],
    start: date,
    end: date,
    basket: Basket,
    now: datetime,
) -> dict[tuple[int, date], ActivityDayView]:
    """The view of every (activity, day) between start and end for one person."""
    if not activity_ids:
        return {}
    days = await ActivityDay.objects().where(
        ActivityDay.activity.is_in(list(activity_ids))
        & (ActivityDay.day >= start)
        & (ActivityDay.day <= end)
    )
    if not days:
        return {}
    own = {
        int(r.activity_day): r
        for r in await Reservation.objects().where(
            (Reservation.person == person_id)
            & Reservation.activity_day.is_in([d.id for d in days])
            & Reservation.status.is_in(list(SHOWN_STATUSES))
        )
    }
    result: dict[tuple[int, date], ActivityDayView] = {}
    for row in days:
        activity = scope.activities[int(row.activity)]
        reservation = own.get(row.id)
        draft_item = basket.get(person_id, row.id)
        facts = DayFacts(
            day=row.day,
            is_open=row.is_open,
            booking_open=deadlines.is_booking_open(
                now, activity.opens_at, activity.booking_rule, row.day, scope.tz
            ),
            cancellation_open=deadlines.is_cancellation_open(
                now, activity.cancellation_rule, row.day, scope.tz
            ),
            capacity=row.capacity,
            waitlist_capacity=row.waitlist_capacity,
            accepted_count=row.accepted_count,
            waitlisted_count=row.waitlisted_count,
            own_status=ReservationStatus(reservation.status) if reservation else None,
            draft=draft_item.action if draft_item else None,
        )
        view = day_view(facts)
        if view.stale_draft is not None:
            basket.remove(person_id, row.id)
        arrival = draft_item.arrival if draft_item and view.draft else None
        departure = draft_item.departure if draft_item and view.draft else None
        if reservation and not arrival:
            arrival, departure = reservation.arrival, reservation.departure
        result[(activity.id, row.day)] = ActivityDayView(
            activity=activity,
            activity_day_id=row.id,
            view=view,
            arrival=arrival,
            departure=departure,
            waitlist_rank=reservation.waitlist_rank if reservation else None,
        )
    return result


async def month_view(
    scope: BookingScope,
    person_id: int,
    activity_id: int | None,
    year: int,
    month: int,
    basket: Basket,
    now: datetime | None = None,
) -> MonthView:
    now = now or clock.utcnow()
    scope.person(person_id)
    grid = month_grid(year, month)
    activities = scope.activities_of(person_id)
    if activity_id is not None:
        activities = [a for a in activities if a.id == activity_id]
    views = await day_views(
        scope, person_id, [a.id for a in activities], grid[0][0], grid[-1][-1], basket, now
    )
    today = now.astimezone(scope.tz).date()
    weeks = []
    for week in grid:
        cells = []
        for day in week:
            entries = tuple(views[(a.id, day)] for a in activities if (a.id, day) in views)
            cells.append(
                CalendarCell(
                    day=day,
                    in_month=day.month == month,
                    is_today=day == today,
                    entries=entries,
                    aggregate=aggregate_state(e.view for e in entries) if entries else None,
                    has_drafts=any(e.view.draft for e in entries),
                )
            )
        weeks.append(cells)
    return MonthView(year, month, weeks)


async def day_entries(
    scope: BookingScope, person_id: int, day: date, basket: Basket, now: datetime | None = None
) -> list[ActivityDayView]:
    """Every activity of the person on one day (the list shown when no activity is selected)."""
    now = now or clock.utcnow()
    activities = scope.activities_of(person_id)
    views = await day_views(scope, person_id, [a.id for a in activities], day, day, basket, now)
    return [views[(a.id, day)] for a in activities if (a.id, day) in views]


# --- basket changes ------------------------------------------------------------------


@dataclass(frozen=True)
class ToggleOutcome:
    changed: int
    needs_times: tuple[date, ...] = ()  # time-entry days waiting for arrival/departure
    message: str | None = None


def _check_may_book(scope: BookingScope, person_id: int, activity_id: int) -> None:
    reasons = scope.block_reasons(person_id, activity_id)
    if reasons:
        raise BookingError(reasons[0].message)


async def toggle_days(
    scope: BookingScope,
    basket: Basket,
    person_id: int,
    activity_id: int,
    days: Iterable[date],
    *,
    arrival: time | None = None,
    departure: time | None = None,
    now: datetime | None = None,
) -> ToggleOutcome:
    """Apply the quick-tool rule to a set of days (one day is a set of one)."""
    now = now or clock.utcnow()
    scope.person(person_id)
    activity = scope.activities.get(activity_id)
    if activity is None or activity_id not in scope.enrolled.get(person_id, []):
        raise BookingError("Cette activité n'est pas accessible à cet enfant.")
    wanted = sorted(set(days))
    if not wanted:
        return ToggleOutcome(0)
    views = await day_views(scope, person_id, [activity_id], wanted[0], wanted[-1], basket, now)
    by_day = {day: entry.view for (a, day), entry in views.items() if day in wanted}
    result = quicktools.toggle(wanted, by_day)
    if result.action is quicktools.ToolAction.BOOK:
        _check_may_book(scope, person_id, activity_id)
    if result.action is quicktools.ToolAction.BOOK and activity.time_entry:
        if arrival is None or departure is None:
            days_needing = tuple(c.day for c in result.changes if c.draft is DraftAction.BOOK)
            return ToggleOutcome(0, needs_times=days_needing)
        rule = activity.time_rule
        assert rule is not None
        check = hours.check_time_entry(rule, arrival, departure)
        if not check.ok:
            raise BookingError(" ".join(check.errors))
    for change in result.changes:
        entry = views[(activity_id, change.day)]
        if change.draft is None:
            basket.remove(person_id, entry.activity_day_id)
        else:
            basket.put(
                BasketItem(
                    person_id=person_id,
                    activity_id=activity_id,
                    activity_day_id=entry.activity_day_id,
                    day=change.day,
                    action=change.draft,
                    arrival=arrival if change.draft is DraftAction.BOOK else None,
                    departure=departure if change.draft is DraftAction.BOOK else None,
                )
            )
    if not result.changes:
        return ToggleOutcome(0, message="Aucun jour modifiable dans cette sélection.")
    return ToggleOutcome(len(result.changes))


async def set_times(
    scope: BookingScope,
    basket: Basket,
    person_id: int,
    activity_id: int,
    times_by_day: dict[date, tuple[time, time]],
    now: datetime | None = None,
) -> list[str]:
    """Draft time-entry bookings with their own arrival and departure per day."""
    now = now or clock.utcnow()
    activity = scope.activities.get(activity_id)
    if (
        activity is None
        or not activity.time_entry
        or activity_id not in scope.enrolled.get(person_id, [])
    ):
        raise BookingError("Cette activité n'est pas accessible à cet enfant.")
    _check_may_book(scope, person_id, activity_id)
    rule = activity.time_rule
    assert rule is not None
    errors: list[str] = []
    days = sorted(times_by_day)
    views = await day_views(scope, person_id, [activity_id], days[0], days[-1], basket, now)
    for day in days:
        arrival, departure = times_by_day[day]
        entry = views.get((activity_id, day))
        label = day.strftime("%d/%m")
        if entry is None or not (
            entry.view.state.is_bookable or entry.view.draft is DraftAction.BOOK
        ):
            errors.append(f"{label} : ce jour ne peut pas être réservé.")
            continue
        check = hours.check_time_entry(rule, arrival, departure)
        if not check.ok:
            errors.extend(f"{label} : {e}" for e in check.errors)
            continue
        basket.put(
            BasketItem(
                person_id,
                activity_id,
                entry.activity_day_id,
                day,
                DraftAction.BOOK,
                arrival,
                departure,
            )
        )
    return errors


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
    if promoted:
        await _after_promotions(promoted)
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
            "UPDATE reservation SET status = 'cancelled', waitlist_rank = NULL, updated_at = {} "
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
        await _queue_promotion_emails(movement_ids)
    return movement_ids


async def _queue_promotion_emails(movement_ids: list[int]) -> None:
    """Written in the same transaction as the promotion (the outbox), when available."""
    try:
        from portal.domain.notifications.service import queue_promotion_emails
    except ImportError:  # the notifications package is optional in a minimal install
        log.warning("notifications indisponibles : promotions %s non annoncées", movement_ids)
        return
    await queue_promotion_emails(movement_ids)


async def _after_promotions(movement_ids: list[int]) -> None:
    try:
        from portal.tasks.outbox import wake_outbox
    except ImportError:
        return
    await wake_outbox()


# --- costs ---------------------------------------------------------------------------


async def unit_prices(activity_ids: Iterable[int], band: str) -> dict[int, list[tuple[date, int]]]:
    """Tariffs per activity for a band, as (valid_from, cents) sorted by date."""
    ids = list(set(activity_ids))
    if not ids:
        return {}
    rows = await Tariff.select(Tariff.activity, Tariff.valid_from, Tariff.unit_price_cents).where(
        Tariff.activity.is_in(ids) & (Tariff.band == band)
    )
    prices: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for row in rows:
        prices[row["activity"]].append((row["valid_from"], row["unit_price_cents"]))
    for series in prices.values():
        series.sort()
    return prices


def price_on(series: Sequence[tuple[date, int]], day: date) -> int | None:
    price = None
    for valid_from, cents in series:
        if valid_from <= day:
            price = cents
    return price


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
    prices = await unit_prices((i.activity_id for i in basket), scope.tariff_band)
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
        unit = price_on(prices.get(activity.id, []), item.day)
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
    statuses: tuple[str, ...] = SHOWN_STATUSES
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
    status: str
    waitlist_rank: int | None
    transmitted: bool

    @property
    def state_label(self) -> str:
        base = {
            "accepted": "Acceptée",
            "waitlisted": "Liste d'attente",
            "pending": "En attente de réponse",
            "refused": "Refusée",
            "cancelled": "Annulée",
        }[self.status]
        if self.status == "waitlisted" and self.waitlist_rank:
            base = f"{base} (rang {self.waitlist_rank})"
        return base if self.transmitted else f"{base}, non transmise"


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
    prices = await unit_prices((r["activity_day.activity"] for r in rows), scope.tariff_band)
    lines = []
    for row in rows:
        activity_id = row["activity_day.activity"]
        day = row["activity_day.day"]
        info = scope.activities.get(activity_id)
        unit = price_on(prices.get(activity_id, []), day)
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
                status=row["status"],
                waitlist_rank=row["waitlist_rank"],
                transmitted=row["transmitted_at"] is not None,
            )
        )
    accepted = [line for line in lines if line.status == "accepted"]
    pending = [line for line in lines if line.status in ("pending", "waitlisted")]
    return Tracking(
        lines=lines,
        accepted_count=len(accepted),
        accepted_cost_cents=sum(line.cost_cents or 0 for line in accepted),
        pending_count=len(pending),
        pending_cost_cents=sum(line.cost_cents or 0 for line in pending),
    )


def local_now(scope: BookingScope, now: datetime | None = None) -> datetime:
    return (now or clock.utcnow()).astimezone(scope.tz)
