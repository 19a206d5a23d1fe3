"""The kitchen and team sheet of one day: who eats (and comes), per activity, school and diet.

Pure functions on plain values: the service reads the accepted reservations of the day with
each child's file (school, diet, allergies, PAI) and gives them here as `Diner`s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from portal.domain.family_file.rules import DIETS
from portal.domain.french_dates import long_date

NO_SCHOOL = "École non renseignée"
STANDARD = "Repas standard"


@dataclass(frozen=True)
class Diner:
    """One child expected on the day for one activity, with what the kitchen must know."""

    activity_id: int
    activity_name: str
    activity_position: int
    child: str
    school: str
    diet: str  # "" or a key of DIETS
    allergies: str
    pai: bool  # a PAI in force that day
    # An absence declared by the family (or recorded by staff): the child is not
    # expected, so not counted; the sheet says how many such places are left empty.
    absent: bool = False


@dataclass(frozen=True)
class Special:
    """A child with a diet, an allergy or a PAI: named on the sheet."""

    child: str
    school: str
    diet: str
    allergies: str
    pai: bool


@dataclass(frozen=True)
class ActivityNumbers:
    activity_id: int
    name: str
    total: int
    by_school: tuple[tuple[str, int], ...]
    by_diet: tuple[tuple[str, int], ...]
    allergies: int
    pai: int
    specials: tuple[Special, ...]
    absences: int = 0  # accepted bookings with an absence declared: not in the total


@dataclass(frozen=True)
class KitchenSheet:
    day: date
    activities: tuple[ActivityNumbers, ...]

    @property
    def total(self) -> int:
        return sum(a.total for a in self.activities)

    @property
    def absences(self) -> int:
        return sum(a.absences for a in self.activities)

    @property
    def absences_text(self) -> str:
        return absences_label(self.absences)

    @property
    def title(self) -> str:
        return f"Effectifs du {long_date(self.day)}"


def diet_label(diet: str) -> str:
    return STANDARD if not diet else DIETS.get(diet, diet)


def build_sheet(day: date, diners: Iterable[Diner]) -> KitchenSheet:
    """Counts per activity (catalogue order), school and diet, and the children to name."""
    groups: dict[tuple[int, str, int], list[Diner]] = {}
    for diner in diners:
        key = (diner.activity_position, diner.activity_name, diner.activity_id)
        groups.setdefault(key, []).append(diner)
    activities = []
    for (_, name, activity_id), booked in sorted(groups.items()):
        members = [d for d in booked if not d.absent]
        schools = Counter(d.school.strip() or NO_SCHOOL for d in members)
        diets = Counter(diet_label(d.diet) for d in members)
        specials = sorted(
            (
                Special(
                    d.child,
                    d.school.strip() or NO_SCHOOL,
                    diet_label(d.diet),
                    d.allergies.strip(),
                    d.pai,
                )
                for d in members
                if d.diet or d.allergies.strip() or d.pai
            ),
            key=lambda s: s.child.casefold(),
        )
        activities.append(
            ActivityNumbers(
                activity_id=activity_id,
                name=name,
                total=len(members),
                by_school=_ordered(schools, last=NO_SCHOOL),
                by_diet=_ordered(diets, first=STANDARD),
                allergies=sum(1 for d in members if d.allergies.strip()),
                pai=sum(1 for d in members if d.pai),
                specials=tuple(specials),
                absences=len(booked) - len(members),
            )
        )
    return KitchenSheet(day, tuple(activities))


def _ordered(
    counts: Counter[str], first: str | None = None, last: str | None = None
) -> tuple[tuple[str, int], ...]:
    def key(item: tuple[str, int]) -> tuple[int, str]:
        label = item[0]
        return (0 if label == first else 2 if label == last else 1, label.casefold())

    return tuple(sorted(counts.items(), key=key))


def sheet_due(now: datetime, closing_instants: Sequence[datetime]) -> bool:
    """The sheet of a day is final (and e-mailed) once every activity's booking closed."""
    return bool(closing_instants) and all(now >= at for at in closing_instants)


def dedupe_key(structure_id: int, day: date) -> str:
    """One kitchen e-mail per structure and day, whatever the sweeps and retries."""
    return f"kitchen:{structure_id}:{day.isoformat()}"


def plain_text(sheet: KitchenSheet, structure_name: str) -> str:
    """The e-mail's text: the same numbers as the printable page."""
    lines = [f"{structure_name} : {sheet.title}", f"Total : {sheet.total} inscrits", ""]
    if not sheet.activities:
        lines.append("Aucun enfant attendu ce jour-là.")
    for activity in sheet.activities:
        lines.append(f"== {activity.name} : {activity.total} ==")
        lines.append("Par école : " + ", ".join(f"{s} {n}" for s, n in activity.by_school))
        lines.append("Par régime : " + ", ".join(f"{d} {n}" for d, n in activity.by_diet))
        lines.append(f"Allergies : {activity.allergies} · PAI : {activity.pai}")
        if activity.absences:
            lines.append(absences_label(activity.absences))
        for special in activity.specials:
            notes = [special.diet]
            if special.allergies:
                notes.append(f"allergies : {special.allergies}")
            if special.pai:
                notes.append("PAI")
            lines.append(f"  - {special.child} ({special.school}) : {', '.join(notes)}")
        lines.append("")
    return "\n".join(lines)


def absences_label(count: int) -> str:
    if count == 1:
        return "1 absence signalée (enfant non compté)"
    return f"{count} absences signalées (enfants non comptés)"
