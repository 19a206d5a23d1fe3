"""Allocating a booking period at its window's end, through the register's own counters.

Three steps, each safe to run again after a crash:
1. the claim: one transaction freezes every waiting request's criteria values and draw
   number (and the period's ``allocation_started_at``), so that a rerun sees the same
   inputs whatever was decided meanwhile;
2. one transaction per activity day: the day is locked first (the lock order of every
   booking writer, ``apply.lock_days``), its waiting requests are decided by the pure
   ``allocation.allocate`` on its free places, the counters are claimed with
   ``apply.claim_counters`` (the same conditional UPDATE as a parent's basket), and the
   reservations, movements and decided requests are written; a day already done has no
   waiting request left;
3. one outcome e-mail per family through the outbox (the dedupe key makes a second copy
   impossible), then ``allocated_at``; from then on the days book as usual.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from portal import clock
from portal.db import placeholders, write_transaction
from portal.domain.booking import apply
from portal.domain.booking.opening import PeriodMode, RequestStatus
from portal.domain.channels.rules import Kind
from portal.domain.criteria_values import values_of_text
from portal.domain.family_file.rules import in_force
from portal.domain.notifications.service import family_addresses, portal_url, render_email
from portal.domain.outbox.service import QueuedEmail, queue_emails
from portal.domain.periods import allocation, rules
from portal.domain.transmission.rules import short_date
from portal.tables import (
    BookingPeriod,
    ChildFile,
    FamilyContact,
    Movement,
    PeriodRequest,
    Reservation,
)

log = logging.getLogger(__name__)

_LIVE = ("accepted", "waitlisted", "pending")


class NotFound(LookupError):
    """No such period."""


class NotDue(RuntimeError):
    """The period's window has not ended (or it has none)."""


@dataclass(frozen=True)
class AllocationOutcome:
    period_id: int
    days: int
    accepted: int
    waitlisted: int
    refused: int
    families_told: int
    already_done: bool = False


async def periods_due(now: datetime | None = None) -> list[int]:
    """Window periods whose window has ended and whose allocation has not finished."""
    now = now or clock.utcnow()
    rows = await (
        BookingPeriod.select(BookingPeriod.id)
        .where(
            BookingPeriod.mode.is_in([PeriodMode.LOTTERY.value, PeriodMode.PRIORITY.value])
            & (BookingPeriod.window_ends_at <= now)
            & BookingPeriod.allocated_at.is_null()
        )
        .order_by(BookingPeriod.window_ends_at)
    )
    return [int(r["id"]) for r in rows]


async def allocate_period(
    period_id: int, *, base_url: str, now: datetime | None = None
) -> AllocationOutcome:
    """Decide every waiting request of the period and tell each family (idempotent)."""
    now = now or clock.utcnow()
    period = await BookingPeriod.select().where(BookingPeriod.id == period_id).first()
    if period is None:
        raise NotFound(period_id)
    if period["allocated_at"] is not None:
        return AllocationOutcome(period_id, 0, 0, 0, 0, 0, already_done=True)
    mode = PeriodMode(period["mode"])
    if not mode.has_window or period["window_ends_at"] is None or now < period["window_ends_at"]:
        raise NotDue(period_id)
    started_at = await freeze_requests(period, now)
    day_ids = [
        int(r["activity_day"])
        for r in await PeriodRequest.select(PeriodRequest.activity_day)
        .where(
            (PeriodRequest.period == period_id)
            & (PeriodRequest.status == RequestStatus.WAITING.value)
        )
        .distinct()
        .order_by(PeriodRequest.activity_day)
    ]
    totals: dict[allocation.Decision, int] = defaultdict(int)
    for day_id in day_ids:
        for decision, count in (await allocate_day(period_id, day_id, started_at, now)).items():
            totals[decision] += count
    told = await notify_and_close(period_id, str(period["name"]), base_url, now)
    outcome = AllocationOutcome(
        period_id,
        len(day_ids),
        totals[allocation.Decision.ACCEPTED],
        totals[allocation.Decision.WAITLISTED],
        totals[allocation.Decision.REFUSED],
        told,
    )
    log.info("période %s attribuée : %s", period_id, outcome)
    return outcome


# --- 1. the claim -------------------------------------------------------------------


async def freeze_requests(period: dict[str, object], now: datetime) -> datetime:
    """Freeze the criteria values and draw of every waiting request not frozen yet; returns
    the allocation's start instant (the same on every rerun)."""
    period_id = int(str(period["id"]))
    criteria = rules.parse_criteria(str(period["criteria"]))
    if PeriodMode(str(period["mode"])) is not PeriodMode.PRIORITY:
        criteria = ()
    postcodes = set(rules.parse_postcodes(str(period["resident_postcodes"])))
    seed = str(period["seed"])
    async with write_transaction():
        await BookingPeriod.raw(
            "UPDATE booking_period SET allocation_started_at = {} "
            "WHERE id = {} AND allocation_started_at IS NULL",
            now,
            period_id,
        )
        row = await (
            BookingPeriod.select(BookingPeriod.allocation_started_at)
            .where(BookingPeriod.id == period_id)
            .first()
        )
        assert row is not None
        started_at: datetime = row["allocation_started_at"]
        requests = await (
            PeriodRequest.select(
                PeriodRequest.id,
                PeriodRequest.family,
                PeriodRequest.person,
                PeriodRequest.activity_day,
                PeriodRequest.activity_day._.day,
                PeriodRequest.draw,
            )
            .where(PeriodRequest.period == period_id)
            .output(nested=False)
        )
        unfrozen = [r for r in requests if not r["draw"]]
        if not unfrozen:
            return started_at
        values = await _criteria_values(period, criteria, postcodes, requests)
        await _set_by_id(
            {
                int(r["id"]): {
                    "draw": allocation.draw_number(seed, int(r["person"]), int(r["activity_day"])),
                    "criteria_values": rules.values_text(criteria, values[int(r["id"])]),
                }
                for r in unfrozen
            },
            {"draw": "TEXT", "criteria_values": "TEXT"},
            "draw = ''",
        )
    return started_at


_CHUNK = 150  # rows per UPDATE: a few parameters each, far below both engines' limits


async def _set_by_id(
    changes: dict[int, dict[str, object]], types: dict[str, str], condition: str
) -> None:
    """Set per-row values of period requests with one UPDATE per chunk of rows (a CASE on
    the id per column; the same SQL on both engines), only where ``condition`` holds."""
    ids = sorted(changes)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        args: list[object] = []
        sets = []
        for column, sql_type in types.items():
            whens = []
            for request_id in chunk:
                whens.append(f"WHEN {{}} THEN CAST({{}} AS {sql_type})")
                args += [request_id, changes[request_id][column]]
            sets.append(f"{column} = CASE id {' '.join(whens)} END")
        args += chunk
        await PeriodRequest.raw(
            f"UPDATE period_request SET {', '.join(sets)} "  # noqa: S608 (constants)
            f"WHERE id IN ({placeholders(len(chunk))}) AND {condition}",
            *args,
        )


async def _criteria_values(
    period: dict[str, object],
    criteria: tuple[rules.Criterion, ...],
    postcodes: set[str],
    requests: list[dict[str, object]],
) -> dict[int, list[int]]:
    """Request id -> its value for each ranked criterion, from the structure's data."""
    ids = [int(str(r["id"])) for r in requests]
    if not criteria:
        return {i: [] for i in ids}
    families = sorted({int(str(r["family"])) for r in requests})
    persons = sorted({int(str(r["person"])) for r in requests})
    resident: set[int] = set()
    # The facts proven in the file, with the end of their proof (None: no end): families
    # whose parents work, children with a PAI, children with a recognised disability.
    working_until: dict[int, date] = {}
    pai_until: dict[int, date | None] = {}
    disability_until: dict[int, date | None] = {}
    if {rules.Criterion.RESIDENT, rules.Criterion.WORKING} & set(criteria):
        for row in await FamilyContact.select(
            FamilyContact.family, FamilyContact.postcode, FamilyContact.parents_working_until
        ).where(FamilyContact.family.is_in(families)):
            if str(row["postcode"]).strip() in postcodes:
                resident.add(int(row["family"]))
            if row["parents_working_until"] is not None:
                working_until[int(row["family"])] = row["parents_working_until"]
    if {rules.Criterion.PAI, rules.Criterion.DISABILITY} & set(criteria):
        for row in await ChildFile.select(
            ChildFile.person,
            ChildFile.pai,
            ChildFile.pai_end,
            ChildFile.disability,
            ChildFile.disability_end,
        ).where(
            ChildFile.person.is_in(persons)
            & ((ChildFile.pai == True) | (ChildFile.disability == True))  # noqa: E712
        ):
            if row["pai"]:
                pai_until[int(row["person"])] = row["pai_end"]
            if row["disability"]:
                disability_until[int(row["person"])] = row["disability_end"]
    # Reservations of the families on the period's dates, before this allocation.
    held = await (
        Reservation.select(Reservation.family, Reservation.person, Reservation.activity_day._.day)
        .where(
            Reservation.family.is_in(families)
            & (Reservation.status == "accepted")
            & (Reservation.activity_day._.day >= period["first_day"])
            & (Reservation.activity_day._.day <= period["last_day"])
            & (Reservation.confirmed_at < period["opens_at"])
        )
        .output(nested=False)
    )
    accepted_days: dict[int, int] = defaultdict(int)
    on_date: dict[tuple[int, object], set[int]] = defaultdict(set)
    for row in held:
        accepted_days[int(row["family"])] += 1
        on_date[(int(row["family"]), row["activity_day.day"])].add(int(row["person"]))
    spread = rules.spread_counts(
        (
            (
                int(str(r["id"])),
                int(str(r["family"])),
                r["activity_day.day"],  # type: ignore[misc]
                int(str(r["person"])),
                int(str(r["activity_day"])),
            )
            for r in requests
        ),
        dict(accepted_days),
    )
    result = {}
    for r in requests:
        request_id, family_id, person_id = (
            int(str(r["id"])),
            int(str(r["family"])),
            int(str(r["person"])),
        )
        day: date = r["activity_day.day"]  # type: ignore[assignment]
        facts = rules.RequestFacts(
            resident=family_id in resident,
            siblings_accepted=len(on_date[(family_id, day)] - {person_id}),
            pai=in_force(person_id in pai_until, pai_until.get(person_id), day),
            days_before=spread[request_id],
            parents_working=in_force(family_id in working_until, working_until.get(family_id), day),
            disability=in_force(
                person_id in disability_until, disability_until.get(person_id), day
            ),
        )
        result[request_id] = [rules.criterion_value(c, facts) for c in criteria]
    return result


# --- 2. one day ---------------------------------------------------------------------


async def allocate_day(
    period_id: int, day_id: int, started_at: datetime, now: datetime
) -> dict[allocation.Decision, int]:
    """Decide the day's waiting requests in one transaction (none left: nothing to do)."""
    counts: dict[allocation.Decision, int] = defaultdict(int)
    async with write_transaction():
        days = await apply.lock_days([day_id])
        day = days.get(day_id)
        rows = await PeriodRequest.select().where(
            (PeriodRequest.period == period_id)
            & (PeriodRequest.activity_day == day_id)
            & (PeriodRequest.status == RequestStatus.WAITING.value)
        )
        if not rows:
            return counts
        live = {
            int(r["person"])
            for r in await Reservation.select(Reservation.person).where(
                (Reservation.activity_day == day_id)
                & Reservation.person.is_in([int(r["person"]) for r in rows])
                & Reservation.status.is_in(list(_LIVE))
            )
        }
        candidates = [
            allocation.Candidate(
                request_id=int(r["id"]),
                activity_day_id=day_id,
                scores=rules.scores(*_criteria_and_values(r["criteria_values"])),
                draw=r["draw"],
            )
            for r in rows
            if int(r["person"]) not in live
        ]
        if day is None or not day.is_open:
            room = allocation.DayRoom(0, 0)
        else:
            room = allocation.DayRoom(
                None if day.capacity is None else max(0, day.capacity - day.accepted_count),
                None
                if day.waitlist_capacity is None
                else max(0, day.waitlist_capacity - day.waitlisted_count),
            )
        decided = allocation.allocate(candidates, {day_id: room})
        by_id = {int(r["id"]): r for r in rows}
        ordered = sorted(decided.values(), key=lambda a: a.position)
        accepted = sum(1 for a in ordered if a.decision is allocation.Decision.ACCEPTED)
        waiting = sum(1 for a in ordered if a.decision is allocation.Decision.WAITLISTED)
        if accepted or waiting:
            await apply.claim_counters({day_id: (accepted, waiting)})
        base_rank = day.waitlisted_count if day else 0
        reservations = [
            Reservation(
                family=by_id[a.request_id]["family"],
                person=by_id[a.request_id]["person"],
                activity_day=day_id,
                status=a.decision.value,
                arrival=by_id[a.request_id]["arrival"],
                departure=by_id[a.request_id]["departure"],
                quantity=by_id[a.request_id]["quantity"],
                waitlist_rank=base_rank + a.waitlist_position if a.waitlist_position else None,
                # The draw order, kept by the waitlist's own order (confirmation time).
                confirmed_at=started_at + timedelta(microseconds=a.position),
                created_by="parent",
                updated_at=now,
            )
            for a in ordered
        ]
        inserted = (
            await Reservation.insert(*reservations).returning(Reservation.id)
            if reservations
            else []
        )
        if inserted:
            await Movement.insert(
                *[
                    Movement(
                        family=by_id[a.request_id]["family"],
                        reservation=row["id"],
                        kind="book",
                        outcome=a.decision.value,
                        actor="parent",
                        created_at=now,
                    )
                    for a, row in zip(ordered, inserted, strict=True)
                ]
            )
        changes: dict[int, dict[str, object]] = {}
        for a, row in zip(ordered, inserted, strict=True):
            changes[a.request_id] = {
                "status": a.decision.value,
                "reservation": int(row["id"]),
                "waitlist_rank": base_rank + a.waitlist_position if a.waitlist_position else None,
            }
            counts[a.decision] += 1
        await _set_by_id(
            changes,
            {"status": "VARCHAR(12)", "reservation": "INTEGER", "waitlist_rank": "INTEGER"},
            "status = 'waiting'",
        )
        if changes:
            await PeriodRequest.update({PeriodRequest.decided_at: now}).where(
                PeriodRequest.id.is_in(sorted(changes))
            )
        duplicates = [int(r["id"]) for r in rows if int(r["person"]) in live]
        if duplicates:
            await PeriodRequest.update(
                {
                    PeriodRequest.status: RequestStatus.REFUSED.value,
                    PeriodRequest.remark: "Déjà réservé ce jour-là",
                    PeriodRequest.decided_at: now,
                }
            ).where(PeriodRequest.id.is_in(duplicates))
            counts[allocation.Decision.REFUSED] += len(duplicates)
    return counts


def _criteria_and_values(text: str) -> tuple[list[rules.Criterion], list[int]]:
    values = values_of_text(text)
    criteria = [rules.Criterion(k) for k in values if k in {c.value for c in rules.Criterion}]
    return criteria, [values[c.value] for c in criteria]


# --- 3. the families' messages ------------------------------------------------------


OUTCOME_WORDS = {
    "accepted": "acceptée",
    "waitlisted": "en liste d'attente",
    "refused": "refusée (plus de place)",
}


async def notify_and_close(period_id: int, name: str, base_url: str, now: datetime) -> int:
    """Queue one outcome e-mail per family (dedupe key per period and family), then mark
    the period allocated; returns how many e-mails were written this time."""
    rows = await (
        PeriodRequest.select(
            PeriodRequest.family,
            PeriodRequest.family._.name,
            PeriodRequest.family._.structure._.name,
            PeriodRequest.status,
            PeriodRequest.waitlist_rank,
            PeriodRequest.remark,
            PeriodRequest.person._.first_name,
            PeriodRequest.activity_day._.day,
            PeriodRequest.activity_day._.activity._.name,
        )
        .where(PeriodRequest.period == period_id)
        .order_by(PeriodRequest.family)
        .order_by(PeriodRequest.activity_day._.day)
        .order_by(PeriodRequest.id)
        .output(nested=False)
    )
    if any(r["status"] == RequestStatus.WAITING.value for r in rows):
        return 0  # a day failed: the next run finishes it first
    by_family: dict[int, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        by_family[int(row["family"])].append(row)
    addresses = await family_addresses(by_family, Kind.BOOKING_REPORT)
    emails = []
    for family_id, lines in by_family.items():
        to = addresses.get(family_id) or []
        if not to:
            log.info("période %s : la famille %s n'a pas d'adresse e-mail", period_id, family_id)
            continue
        email = render_email(
            "period_outcome",
            family_name=lines[0]["family.name"],
            structure_name=lines[0]["family.structure.name"],
            period_name=name,
            lines=[
                {
                    "day": short_date(line["activity_day.day"]),  # type: ignore[arg-type]
                    "first_name": line["person.first_name"],
                    "activity": line["activity_day.activity.name"],
                    "outcome": (
                        f"en liste d'attente (rang {line['waitlist_rank']})"
                        if line["status"] == "waitlisted"
                        else line["remark"] or OUTCOME_WORDS[str(line["status"])]
                    ),
                }
                for line in lines
            ],
            portal_url=portal_url(base_url),
        )
        emails.append(
            QueuedEmail(
                f"period:{period_id}:family:{family_id}", to, email.subject, email.text, email.html
            )
        )
    async with write_transaction():
        written = await queue_emails(emails)
        await BookingPeriod.update({BookingPeriod.allocated_at: now}).where(
            (BookingPeriod.id == period_id) & BookingPeriod.allocated_at.is_null()
        )
    return written
