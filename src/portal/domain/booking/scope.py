"""What a family may book: its people, their activities, its standing (debts, rules)."""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from portal import clock
from portal.db import current_engine, read_snapshot
from portal.domain.accounts.service import current_rules_document
from portal.domain.booking import deadlines, eligibility, hours, opening
from portal.domain.booking.on_behalf import NO_OVERRIDE, Booker, Override
from portal.domain.family_file import service as family_file
from portal.domain.family_file.rules import FileRules
from portal.domain.money import service as money
from portal.domain.reservation_status import LIVE_STATUSES as LIVE_STATUSES
from portal.domain.reservation_status import SHOWN_STATUSES as SHOWN_STATUSES
from portal.tables import (
    Activity,
    Enrollment,
    Family,
    Person,
    RulesAcknowledgement,
    RulesDocument,
    ScopeVersion,
    Structure,
)


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
    # The structure's booking periods (opening.structure_periods), earliest opening first.
    periods: tuple[opening.OpeningPeriod, ...] = ()
    # Who books through this scope, and what a clerk chose to override (on_behalf).
    booker: Booker = Booker.PARENT
    override: Override = NO_OVERRIDE

    def acting(
        self, booker: Booker, override: Override, *, health_sealed: bool = False
    ) -> BookingScope:
        """A copy for another booker (the cached scope itself is shared, never changed);
        `health_sealed` for a clerk without health access: what the file misses is told
        without naming health documents."""
        if booker is Booker.PARENT and override.active:
            raise BookingError("Seule la structure peut passer outre les délais ou la capacité.")
        standing = self.standing
        if health_sealed:
            standing = replace(standing, file_missing=standing.file_missing_sealed)
        return replace(self, booker=booker, override=override, standing=standing)

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


# --- the scope cache ----------------------------------------------------------------
#
# A parent's every tap needs the scope; rebuilding it is about twenty queries. It is kept
# per process and family, with the two data versions (the family's and its structure's) it
# was read at: database triggers change them on every write to what the scope is made of
# (see portal.tables.versions), so one cheap query tells whether the copy is still right.
# It also lapses when a rules document scheduled for later comes into force, and at
# midnight (the family file's state is of a day).
#
# What belongs to the structure (its activities, rules document, booking periods and file
# rules) is the same for each of its families: it is kept once per structure, under the
# structure's version, so that on opening day a thousand families' first pages do not read
# it a thousand times.


@dataclass(frozen=True)
class _StructurePart:
    structure_id: int
    timezone: str
    debt_block_cents: int | None
    activities: dict[int, ActivityInfo]
    rules_document_id: int | None
    next_rules_change: datetime | None
    periods: tuple[opening.OpeningPeriod, ...]
    file_rules: FileRules

    def fresh_at(self, now: datetime) -> bool:
        return self.next_rules_change is None or now < self.next_rules_change


@dataclass(frozen=True)
class _CachedStructure:
    version: int
    part: _StructurePart
    loaded_at: datetime


@dataclass(frozen=True)
class _Cached:
    versions: tuple[int, int, int]  # the family's, its structure's, the structure id
    scope: BookingScope
    loaded_at: datetime
    expires_at: datetime | None


_CACHE: OrderedDict[tuple[int, int], _Cached] = OrderedDict()
CACHE_SIZE = 5000
_STRUCTURES: dict[tuple[int, int], _CachedStructure] = {}
STRUCTURE_CACHE_SIZE = 500


def clear_scope_cache() -> None:
    _CACHE.clear()
    _STRUCTURES.clear()


async def _versions(family_id: int) -> tuple[int, int, int] | None:
    """The family's and its structure's data versions (0 before any write), and the
    structure's id, in one query."""
    rows = await ScopeVersion.raw(
        "SELECT (SELECT version FROM scope_version WHERE kind = 'f' AND owner = family.id) AS f, "
        "(SELECT version FROM scope_version WHERE kind = 's' AND owner = family.structure) AS s, "
        "family.structure AS structure FROM family WHERE family.id = {}",
        family_id,
    )
    if not rows:
        return None
    return int(rows[0]["f"] or 0), int(rows[0]["s"] or 0), int(rows[0]["structure"])


def _fresh(cached: _Cached | None, versions: tuple[int, int, int] | None, now: datetime) -> bool:
    return (
        cached is not None
        and cached.versions == versions
        and cached.loaded_at <= now
        and (cached.expires_at is None or now < cached.expires_at)
    )


async def load_scope(
    family_id: int, versions_read: tuple[int, int, int] | None = None
) -> BookingScope:
    """The family's scope, from the cache when its data versions have not moved.

    ``versions_read``: the versions as the request read them already (with the account),
    for a request that has written nothing since; the cache is checked against them
    without another query. Callers must not change the scope they get: it is shared by
    the family's requests.
    """
    key = (id(current_engine()), family_id)
    cached = _CACHE.get(key)
    if cached is not None and _fresh(
        cached, versions_read or await _versions(family_id), clock.utcnow()
    ):
        _CACHE.move_to_end(key)
        return cached.scope
    async with read_snapshot():
        # Versions first, then the data: a write in between makes the next check miss.
        versions = await _versions(family_id)
        if versions is None:
            raise BookingError("Famille inconnue.")
        now = clock.utcnow()
        structure = await _structure_part(versions[2], versions[1], now)
        scope, expires_at = await _load_scope(family_id, structure, now)
    _CACHE[key] = _Cached(versions, scope, now, expires_at)
    _CACHE.move_to_end(key)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return scope


async def _structure_part(structure_id: int, version: int, now: datetime) -> _StructurePart:
    key = (id(current_engine()), structure_id)
    cached = _STRUCTURES.get(key)
    if (
        cached is not None
        and cached.version == version
        and cached.loaded_at <= now
        and cached.part.fresh_at(now)
    ):
        return cached.part
    part = await _load_structure_part(structure_id, now)
    if len(_STRUCTURES) >= STRUCTURE_CACHE_SIZE:
        _STRUCTURES.clear()
    _STRUCTURES[key] = _CachedStructure(version, part, now)
    return part


async def _next_rules_change(structure_id: int, now: datetime) -> datetime | None:
    row: dict[str, Any] | None = await (
        RulesDocument.select(RulesDocument.in_force_from)
        .where((RulesDocument.structure == structure_id) & (RulesDocument.in_force_from > now))
        .order_by(RulesDocument.in_force_from)
        .first()
    )
    return row["in_force_from"] if row else None


async def _load_structure_part(structure_id: int, now: datetime) -> _StructurePart:
    structure = await Structure.objects().get(Structure.id == structure_id)
    if structure is None:
        raise BookingError("Famille inconnue.")
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
    document = await current_rules_document(structure.id)
    return _StructurePart(
        structure_id=structure.id,
        timezone=structure.timezone,
        debt_block_cents=structure.debt_block_cents,
        activities=activities,
        rules_document_id=document.id if document is not None else None,
        next_rules_change=await _next_rules_change(structure.id, now),
        periods=await opening.structure_periods(structure.id),
        file_rules=await family_file.file_rules(structure.id),
    )


async def _load_scope(
    family_id: int, structure: _StructurePart, now: datetime
) -> tuple[BookingScope, datetime | None]:
    # Raw SQL for the family's own rows: this part is read again after each of its writes.
    families = await Family.raw("SELECT name, tariff_band FROM family WHERE id = {}", family_id)
    if not families:
        raise BookingError("Famille inconnue.")
    people = [
        PersonInfo(int(p["id"]), p["first_name"], p["last_name"])
        for p in await Person.raw(
            "SELECT id, first_name, last_name FROM person WHERE family = {} ORDER BY birth_date",
            family_id,
        )
    ]
    activities = structure.activities
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
    document_id = structure.rules_document_id
    signed: set[int] = set(person_ids) if document_id is None else set()
    if document_id is not None and person_ids:
        signed = {
            r["person"]
            for r in await RulesAcknowledgement.select(RulesAcknowledgement.person).where(
                (RulesAcknowledgement.document == document_id)
                & RulesAcknowledgement.person.is_in(person_ids)
            )
        }
    balances = await money.wallet_balances(family_id, create_missing=False)
    tz = ZoneInfo(structure.timezone)
    today = now.astimezone(tz).date()
    file = (await family_file.file_states_under(structure.file_rules, [family_id], today))[
        family_id
    ]
    standing = money.standing_from(
        balances,
        file.complete,
        structure.debt_block_cents,
        [m.text for m in file.missing],
        [m.sealed().text for m in file.missing],
    )
    scope = BookingScope(
        family_id=family_id,
        family_name=families[0]["name"],
        tariff_band=families[0]["tariff_band"],
        structure_id=structure.structure_id,
        tz=tz,
        people=people,
        activities=activities,
        enrolled=dict(enrolled),
        signed=signed,
        standing=standing,
        wallet_of_type={w.wallet_type_id: w.wallet_id for w in balances},
        periods=structure.periods,
    )
    # The file state is of today: the copy lapses at the structure's midnight too.
    midnight = datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)
    rules_change = structure.next_rules_change
    return scope, min(midnight, rules_change) if rules_change else midnight
