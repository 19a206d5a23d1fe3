"""Statistics for the CAF and the council, from the register: pure aggregation.

Definitions (one reservation is one child on one activity day):
- réservé: an accepted reservation;
- présent: accepted and not marked absent;
- facturé: accepted and not a justified absence (an unjustified absence is billed);
- heures réalisées (time-entry activities): for each child present, the times seen on the
  attendance sheet, else the booked times;
- heures facturées: for each billed day, the billed quantity times the billing unit.
Children and families are counted once per activity and month (and per group).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class AgeGroup(StrEnum):
    UNDER_6 = "Moins de 6 ans"
    SIX_TO_11 = "6 à 11 ans"
    TWELVE_PLUS = "12 ans et plus"
    UNKNOWN = "Âge non renseigné"


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_group(birth: date | None, day: date) -> AgeGroup:
    """The child's group on the day of the activity (CAF age bands)."""
    if birth is None:
        return AgeGroup.UNKNOWN
    age = age_on(birth, day)
    if age < 6:
        return AgeGroup.UNDER_6
    return AgeGroup.SIX_TO_11 if age < 12 else AgeGroup.TWELVE_PLUS


@dataclass(frozen=True)
class Attendance:
    """One accepted reservation, with what the statistics need of it."""

    activity_id: int
    activity_name: str
    activity_position: int
    day: date
    person_id: int
    family_id: int
    birth_date: date | None
    band: str
    absent: bool
    justified: bool
    time_entry: bool
    booked_minutes: int | None  # the booked arrival to departure (time entry)
    seen_minutes: int | None  # the times seen on the sheet, when recorded
    quantity: int
    unit_minutes: int


@dataclass
class Figures:
    children: set[int] = field(default_factory=set)
    families: set[int] = field(default_factory=set)
    booked: int = 0
    attended: int = 0
    billed: int = 0
    minutes_done: int = 0
    minutes_billed: int = 0

    def add(self, a: Attendance) -> None:
        self.children.add(a.person_id)
        self.families.add(a.family_id)
        self.booked += 1
        if not a.absent:
            self.attended += 1
            if a.time_entry:
                self.minutes_done += a.seen_minutes or a.booked_minutes or 0
        if not (a.absent and a.justified):
            self.billed += 1
            if a.time_entry:
                self.minutes_billed += a.quantity * a.unit_minutes

    @property
    def child_count(self) -> int:
        return len(self.children)

    @property
    def family_count(self) -> int:
        return len(self.families)


@dataclass(frozen=True)
class MonthLine:
    """One activity in one month: the figures, by age group and by tariff band."""

    activity_id: int
    activity_name: str
    month: date  # its first day
    time_entry: bool
    total: Figures
    by_age: tuple[tuple[AgeGroup, Figures], ...]
    by_band: tuple[tuple[str, Figures], ...]


def month_lines(rows: Iterable[Attendance]) -> list[MonthLine]:
    """Activity (catalogue order) then month; groups in a fixed order, empty ones left out."""
    groups: dict[tuple[int, str, int, date], list[Attendance]] = {}
    for row in rows:
        key = (row.activity_position, row.activity_name, row.activity_id, row.day.replace(day=1))
        groups.setdefault(key, []).append(row)
    lines = []
    for (_, name, activity_id, month), members in sorted(groups.items()):
        total = Figures()
        ages: dict[AgeGroup, Figures] = {}
        bands: dict[str, Figures] = {}
        for a in members:
            total.add(a)
            ages.setdefault(age_group(a.birth_date, a.day), Figures()).add(a)
            bands.setdefault(a.band or "?", Figures()).add(a)
        lines.append(
            MonthLine(
                activity_id=activity_id,
                activity_name=name,
                month=month,
                time_entry=any(a.time_entry for a in members),
                total=total,
                by_age=tuple((g, ages[g]) for g in AgeGroup if g in ages),
                by_band=tuple(sorted(bands.items())),
            )
        )
    return lines


def hours_text(minutes: int) -> str:
    """« 12 h 30 »: hours as the CAF reads them."""
    return f"{minutes // 60} h {minutes % 60:02d}"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # what is written beside the bar


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart drawn as SVG by the template (no inline style: CSP)."""

    title: str
    bars: tuple[Bar, ...]
    unit_width: float  # SVG units per value unit, so that the longest bar fills the width

    WIDTH = 300
    ROW = 22

    @classmethod
    def of(cls, title: str, bars: Iterable[Bar]) -> BarChart:
        chosen = tuple(bars)
        top = max((b.value for b in chosen), default=0)
        return cls(title, chosen, cls.WIDTH / top if top else 0.0)

    @property
    def height(self) -> int:
        return self.ROW * max(len(self.bars), 1)

    def width_of(self, bar: Bar) -> float:
        return round(bar.value * self.unit_width, 1)
