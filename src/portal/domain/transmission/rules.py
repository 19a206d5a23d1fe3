"""Pure rules of the nightly transmission: when it is due, and what a family's report says."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from portal.domain.french_dates import short_day
from portal.domain.reservation_status import MovementKind, ReservationStatus

DEFAULT_NIGHTLY_TIME = time(2, 0)
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


# --- when ------------------------------------------------------------------------------------


def nightly_time(raw: str | None) -> time:
    """`Structure.nightly_time` ("HH:MM"); the default 02:00 when empty or malformed."""
    match = _HH_MM.match((raw or "").strip())
    if not match:
        return DEFAULT_NIGHTLY_TIME
    return time(int(match.group(1)), int(match.group(2)))


def last_due_instant(now: datetime, at: time, tz_name: str) -> datetime:
    """The latest instant, not after `now`, at which the structure's night was due (UTC).

    Local wall-clock time, DST included: a time that does not exist on the spring-forward
    night resolves to the instant just after the gap.
    """
    tz = ZoneInfo(tz_name)
    local_day = now.astimezone(tz).date()
    for day in (local_day, local_day - timedelta(days=1), local_day - timedelta(days=2)):
        instant = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
        if instant <= now:
            return instant
    raise AssertionError("unreachable: one of the last three nights is in the past")


def is_due(last_transmission_at: datetime | None, last_due: datetime) -> bool:
    """Whether the night that was due at `last_due` has not run yet.

    A structure never transmitted has no missed night of its own; the caller decides
    from its waiting movements (see service.due_structures).
    """
    return last_transmission_at is not None and last_transmission_at < last_due


# --- the report ------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def short_date(day: date) -> str:
    """French short date of the seed e-mails: "lun. 15/05" (cached: a night's reports
    name the same few weeks of days tens of thousands of times)."""
    return short_day(day)


def short_dates(days: Iterable[date]) -> str:
    return ", ".join(short_date(d) for d in sorted(set(days)))


@dataclass(frozen=True)
class ReportMovement:
    """One movement of a family, with what the report shows of its reservation."""

    movement_id: int
    reservation_id: int
    kind: MovementKind
    outcome: ReservationStatus
    person_first_name: str
    person_last_name: str
    activity_id: int
    activity_name: str
    activity_position: int
    day: date
    actor: str = "parent"  # "staff": made by the structure on the family's behalf

    @property
    def by_structure(self) -> bool:
        return self.actor == STAFF_ACTOR

    def __post_init__(self) -> None:
        # Accept the plain strings read back from the database.
        object.__setattr__(self, "kind", MovementKind(self.kind))
        object.__setattr__(self, "outcome", ReservationStatus(self.outcome))


# The movement actor of a clerk booking on the family's behalf (domain.booking.on_behalf).
STAFF_ACTOR = "staff"
BY_STRUCTURE = "par la structure"


@dataclass(frozen=True)
class PersonDays:
    person: str
    dates: str


@dataclass(frozen=True)
class ActivityGroup:
    activity: str
    people: tuple[PersonDays, ...]


@dataclass(frozen=True)
class ReportSection:
    outcome: str
    title: str
    activities: tuple[ActivityGroup, ...]


@dataclass(frozen=True)
class FamilyReport:
    movement_ids: tuple[int, ...]
    requests_line: str | None
    request_details: tuple[str, ...]
    outcome_lines: tuple[str, ...]
    sections: tuple[ReportSection, ...]

    @property
    def last_movement_id(self) -> int:
        return max(self.movement_ids)

    @property
    def is_empty(self) -> bool:
        return not self.movement_ids


# Order of the count lines, and of the sections (the seed's, pending last).
_COUNT_ORDER = (
    ReservationStatus.ACCEPTED,
    ReservationStatus.PENDING,
    ReservationStatus.WAITLISTED,
    ReservationStatus.CANCELLED,
    ReservationStatus.REFUSED,
)
_SECTION_ORDER = (
    ReservationStatus.WAITLISTED,
    ReservationStatus.ACCEPTED,
    ReservationStatus.REFUSED,
    ReservationStatus.CANCELLED,
    ReservationStatus.PENDING,
)
SECTION_TITLES = {
    ReservationStatus.WAITLISTED: "RESERVATIONS MISES EN LISTE D'ATTENTE",
    ReservationStatus.ACCEPTED: "RESERVATIONS ACCEPTEES",
    ReservationStatus.REFUSED: "RESERVATIONS REFUSEES",
    ReservationStatus.CANCELLED: "RESERVATIONS ANNULEES",
    ReservationStatus.PENDING: "RESERVATIONS EN ATTENTE DE TRAITEMENT",
}
_OUTCOME_WORDS = {
    ReservationStatus.ACCEPTED: ("a été acceptée", "ont été acceptées"),
    ReservationStatus.PENDING: (
        "est en attente de traitement par nos services",
        "sont en attente de traitement par nos services",
    ),
    ReservationStatus.WAITLISTED: (
        "a été mise en liste d'attente",
        "ont été mises en liste d'attente",
    ),
    ReservationStatus.CANCELLED: ("a été annulée", "ont été annulées"),
    ReservationStatus.REFUSED: ("a été refusée", "ont été refusées"),
}


def requests_line(count: int) -> str:
    if count == 1:
        return "1 mouvement sur vos demandes de réservations a été reçu, dont :"
    return f"{count} mouvements sur vos demandes de réservations ont été reçus, dont :"


def new_requests_line(count: int) -> str:
    if count == 1:
        return "1 nouvelle demande de réservation"
    return f"{count} nouvelles demandes de réservation"


def cancellations_line(count: int) -> str:
    return "1 demande d'annulation" if count == 1 else f"{count} demandes d'annulation"


def outcome_line(outcome: ReservationStatus, count: int) -> str:
    singular, plural = _OUTCOME_WORDS[outcome]
    if count == 1:
        return f"1 réservation {singular}"
    return f"{count} réservations {plural}"


def person_label(first_name: str, last_name: str) -> str:
    """ "DUPONT Amalia", as in the seed reports."""
    return f"{last_name} {first_name}".strip()


def build_family_report(movements: Sequence[ReportMovement]) -> FamilyReport:
    """What a family's report says about these movements.

    Requests (new bookings, cancellations) are counted per movement; outcomes per
    reservation, by its latest movement: a day booked then cancelled in the same period
    is reported cancelled, not both.
    """
    ordered = sorted(movements, key=lambda m: m.movement_id)
    kinds = Counter(m.kind for m in ordered)
    requests = kinds[MovementKind.BOOK] + kinds[MovementKind.CANCEL]
    latest: dict[int, ReportMovement] = {}
    for movement in ordered:
        latest[movement.reservation_id] = movement
    outcomes = Counter(m.outcome for m in latest.values())
    details = []
    if kinds[MovementKind.BOOK]:
        details.append(new_requests_line(kinds[MovementKind.BOOK]))
    if kinds[MovementKind.CANCEL]:
        details.append(cancellations_line(kinds[MovementKind.CANCEL]))
    by_structure = sum(
        1 for m in ordered if m.by_structure and m.kind in (MovementKind.BOOK, MovementKind.CANCEL)
    )
    if by_structure:
        details.append(
            "1 demande faite pour vous par la structure"
            if by_structure == 1
            else f"{by_structure} demandes faites pour vous par la structure"
        )
    sections = []
    for outcome in _SECTION_ORDER:
        chosen = [m for m in latest.values() if m.outcome == outcome]
        if chosen:
            sections.append(ReportSection(outcome, SECTION_TITLES[outcome], _group(chosen)))
    return FamilyReport(
        movement_ids=tuple(m.movement_id for m in ordered),
        requests_line=requests_line(requests) if requests else None,
        request_details=tuple(details),
        outcome_lines=tuple(outcome_line(o, outcomes[o]) for o in _COUNT_ORDER if outcomes[o]),
        sections=tuple(sections),
    )


def _group(movements: Sequence[ReportMovement]) -> tuple[ActivityGroup, ...]:
    """By activity (catalogue order, then name), then person (alphabetical), dates sorted."""
    activities: dict[tuple[int, str, int], dict[str, list[date]]] = {}
    for m in movements:
        key = (m.activity_position, m.activity_name, m.activity_id)
        person = person_label(m.person_first_name, m.person_last_name)
        if m.by_structure:
            person = f"{person} ({BY_STRUCTURE})"
        activities.setdefault(key, {}).setdefault(person, []).append(m.day)
    return tuple(
        ActivityGroup(
            activity=key[1],
            people=tuple(
                PersonDays(person, short_dates(days))
                for person, days in sorted(people.items(), key=lambda item: item[0].lower())
            ),
        )
        for key, people in sorted(activities.items())
    )


# --- the export ------------------------------------------------------------------------------

EXPORT_HEADER = ("Activité", "Date", "Jour", "Enfant", "Famille", "Arrivée", "Départ")


@dataclass(frozen=True)
class Attendance:
    """One child expected on one activity day (an accepted reservation)."""

    activity_name: str
    activity_position: int
    day: date
    person_first_name: str
    person_last_name: str
    family_name: str
    arrival: time | None
    departure: time | None


@lru_cache(maxsize=4096)
def _export_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@lru_cache(maxsize=4096)
def _export_weekday(day: date) -> str:
    return short_date(day).split(" ")[0]


@lru_cache(maxsize=4096)
def _hh_mm(at: time | None) -> str:
    return at.strftime("%H:%M") if at else ""


def _export_order(attendances: Iterable[Attendance]) -> list[Attendance]:
    """Per activity (its position, then name) and day, children in alphabetical order."""
    return sorted(
        attendances,
        key=lambda a: (
            a.activity_position,
            a.activity_name,
            a.day,
            a.person_last_name.lower(),
            a.person_first_name.lower(),
        ),
    )


def export_cells(attendances: Iterable[Attendance]) -> list[tuple[str | date | time | None, ...]]:
    """The same rows as ``export_rows``, typed (dates and times) for the XLSX file."""
    return [
        (
            a.activity_name,
            a.day,
            _export_weekday(a.day),
            person_label(a.person_first_name, a.person_last_name),
            a.family_name,
            a.arrival,
            a.departure,
        )
        for a in _export_order(attendances)
    ]


def export_rows(attendances: Iterable[Attendance]) -> list[tuple[str, ...]]:
    """CSV rows per activity and day, children in alphabetical order."""
    return [
        (
            a.activity_name,
            _export_date(a.day),
            _export_weekday(a.day),
            person_label(a.person_first_name, a.person_last_name),
            a.family_name,
            _hh_mm(a.arrival),
            _hh_mm(a.departure),
        )
        for a in _export_order(attendances)
    ]
