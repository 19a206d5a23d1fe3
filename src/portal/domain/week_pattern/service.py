"""Semaine type use cases: save a child's usual week, apply it over a period.

Applying never touches the register: each day goes through the draft machinery of
"Importer" (``drafting.draft_requests``: closed, late, full, already booked, incompatible
hours) after the child's booking blocks (debt, file, rules signature); what passes lands
in the basket, the rest is reported, then the parent goes through the usual recap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from portal import clock
from portal.db import write_transaction
from portal.domain.booking import drafting
from portal.domain.booking.basket import Basket
from portal.domain.booking.scope import BookingError, BookingScope
from portal.domain.errors import NotFound
from portal.domain.week_pattern import rules
from portal.domain.week_pattern.rules import Pattern, PatternError
from portal.tables import WeekPattern


@dataclass(frozen=True)
class SavedPattern:
    id: int
    person_id: int
    person_name: str
    name: str
    pattern: Pattern
    summary: list[tuple[str, str]]  # (activity, "lundi, mardi")


@dataclass(frozen=True)
class DayLine:
    day: date
    activity: str


@dataclass(frozen=True)
class SkippedLine:
    day: date | None  # None: every day of the activity (a booking block)
    activity: str
    reason: str


@dataclass(frozen=True)
class PatternReport:
    added: tuple[DayLine, ...]
    skipped: tuple[SkippedLine, ...]


def _allowed(scope: BookingScope, person_id: int) -> list[int]:
    return list(scope.enrolled.get(person_id, []))


async def patterns_of(scope: BookingScope) -> list[SavedPattern]:
    """The family's saved patterns, child by child."""
    rows = await (
        WeekPattern.objects()
        .where(WeekPattern.family == scope.family_id)
        .order_by(WeekPattern.person)
        .order_by(WeekPattern.name)
    )
    names = {a.id: a.name for a in scope.activities.values()}
    people = {p.id: p.first_name for p in scope.people}
    result = []
    for row in rows:
        person_id = int(row.person)
        if person_id not in people:
            continue
        pattern = rules.pattern_from_text(row.slots, _allowed(scope, person_id))
        result.append(
            SavedPattern(
                int(row.id), person_id, people[person_id], row.name, pattern,
                pattern.summary(names),
            )
        )  # fmt: skip
    return result


async def pattern_of(scope: BookingScope, pattern_id: int) -> SavedPattern:
    """One of this family's patterns; NotFound for anybody else's."""
    for saved in await patterns_of(scope):
        if saved.id == pattern_id:
            return saved
    raise NotFound(f"semaine type {pattern_id}")


async def save_pattern(
    scope: BookingScope, person_id: int, name: str, pattern: Pattern, pattern_id: int | None = None
) -> int:
    """Create (or replace) a saved pattern of one of the family's children."""
    scope.person(person_id)
    clean_name = rules.check_name(name)
    kept = rules.pattern_from_pairs(
        ((a, d) for a, days in pattern.slots.items() for d in days), _allowed(scope, person_id)
    )
    if kept.is_empty:
        raise PatternError("Cochez au moins un jour pour une activité.")
    async with write_transaction():
        if pattern_id is not None:
            await pattern_of(scope, pattern_id)
            await WeekPattern.update(
                {
                    WeekPattern.person: person_id,
                    WeekPattern.name: clean_name,
                    WeekPattern.slots: kept.to_text(),
                    WeekPattern.updated_at: clock.utcnow(),
                }
            ).where((WeekPattern.id == pattern_id) & (WeekPattern.family == scope.family_id))
            return pattern_id
        count = await WeekPattern.count().where(
            (WeekPattern.family == scope.family_id) & (WeekPattern.person == person_id)
        )
        if count >= rules.MAX_PATTERNS_PER_CHILD:
            raise PatternError(
                f"{rules.MAX_PATTERNS_PER_CHILD} semaines types au plus par enfant : "
                "supprimez-en une avant d'en créer une autre."
            )
        rows = await WeekPattern.insert(
            WeekPattern(
                family=scope.family_id,
                person=person_id,
                name=clean_name,
                slots=kept.to_text(),
                updated_at=clock.utcnow(),
            )
        ).returning(WeekPattern.id)
    return int(rows[0]["id"])


async def delete_pattern(scope: BookingScope, pattern_id: int) -> None:
    async with write_transaction():
        await pattern_of(scope, pattern_id)
        await WeekPattern.delete().where(
            (WeekPattern.id == pattern_id) & (WeekPattern.family == scope.family_id)
        )


async def apply_pattern(
    scope: BookingScope,
    basket: Basket,
    person_id: int,
    pattern: Pattern,
    start: date,
    end: date,
    now: datetime | None = None,
) -> PatternReport:
    """Draft the pattern's days of the period into the basket; report those not added."""
    now = now or clock.utcnow()
    scope.person(person_id)
    wanted = rules.requested_days(pattern, start, end)
    if not wanted:
        raise PatternError("Cette semaine type ne demande aucun jour sur cette période.")
    added: list[DayLine] = []
    skipped: list[SkippedLine] = []
    # Activities in the day's order (morning care before canteen): when two overlap, the
    # earlier one is drafted first and the later one is reported "horaires incompatibles".
    activities = sorted(
        (scope.activities[a] for a in wanted if a in scope.activities),
        key=lambda a: (a.start_time, a.end_time, a.id),
    )
    for activity in activities:
        if activity.id not in scope.enrolled.get(person_id, []):
            skipped.append(SkippedLine(None, activity.name, "Activité non accessible"))
            continue
        try:
            drafting.check_may_book(scope, person_id, activity.id)
        except BookingError as exc:
            skipped.append(SkippedLine(None, activity.name, str(exc)))
            continue
        days = wanted[activity.id]
        hours = drafting.widest_range(activity)
        plan = await drafting.draft_requests(
            scope, basket, person_id, activity.id, {d: hours for d in days}, days[0], days[-1], now
        )
        added += [DayLine(day, activity.name) for day in plan.copied_days]
        skipped += [SkippedLine(s.day, activity.name, s.reason.label) for s in plan.skipped]
    return PatternReport(
        tuple(sorted(added, key=lambda line: line.day)),
        tuple(sorted(skipped, key=lambda line: (line.day or date.min, line.activity))),
    )
