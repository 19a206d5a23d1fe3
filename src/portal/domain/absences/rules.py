"""Pure rules of declared absences ("Signaler une absence").

A parent may declare an absence on an accepted booking of today or later, even after the
cancellation deadline (the place stays taken: it is an absence, not a cancellation). Today
is allowed only when the structure accepts same-morning declarations, until its time.
Staff then decide: justified (not billed, or credited back when already posted) or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

MAX_NOTE = 500
# The latest time a structure may set for same-morning declarations: past noon the day's
# lunch is served and the declaration means nothing for the kitchen.
LATEST_UNTIL = time(12, 0)
EARLIEST_UNTIL = time(6, 0)


class AbsenceError(ValueError):
    """A declaration or decision that cannot be taken (the message is French)."""


class AbsenceStatus(StrEnum):
    DECLARED = "declared"
    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def flags(self) -> tuple[bool, bool]:
        """(absent, absence_justified) as the reservation stores them once decided."""
        return (self is not AbsenceStatus.DECLARED, self is AbsenceStatus.JUSTIFIED)


_LABELS = {
    AbsenceStatus.DECLARED: "Absence signalée, en attente de la décision de la structure",
    AbsenceStatus.JUSTIFIED: "Absence justifiée : non facturée",
    AbsenceStatus.UNJUSTIFIED: "Absence non justifiée : facturée",
}


@dataclass(frozen=True)
class AbsencePolicy:
    """A structure's setting on declarations made on the day itself."""

    same_morning: bool = True
    until: time = time(9, 30)

    @property
    def until_minutes(self) -> int:
        return self.until.hour * 60 + self.until.minute

    @classmethod
    def from_minutes(cls, same_morning: bool, minutes: int) -> AbsencePolicy:
        minutes = max(0, min(int(minutes), 24 * 60 - 1))
        return cls(same_morning, time(minutes // 60, minutes % 60))

    @property
    def description(self) -> str:
        if not self.same_morning:
            return "Les absences se signalent au plus tard la veille."
        return f"Les absences du jour même se signalent jusqu'à {self.until:%H:%M}."


def parse_until(text: str) -> time:
    """The same-morning limit typed by staff ("09:30"), within 06:00 to 12:00."""
    try:
        value = time.fromisoformat(text.strip()[:5])
    except ValueError:
        raise AbsenceError("Indiquez l'heure limite au format HH:MM (par exemple 09:30).") from None
    if not EARLIEST_UNTIL <= value <= LATEST_UNTIL:
        raise AbsenceError("L'heure limite du jour même doit être entre 06:00 et 12:00.")
    return value


def declaration_refusal(
    *,
    day: date,
    status: str,
    already_declared: bool,
    now_local: datetime,
    policy: AbsencePolicy,
) -> str | None:
    """Why this booking cannot be declared absent now (French), or None when it can.

    The cancellation deadline is deliberately not checked: a sick child is declared
    after it, which is the point of the feature.
    """
    if status != "accepted":
        return "Seul un jour réservé et accepté peut être signalé comme absence."
    if already_declared:
        return "Une absence est déjà signalée pour ce jour."
    today = now_local.date()
    if day < today:
        return "Ce jour est passé : pour une absence passée, contactez directement la structure."
    if day == today:
        if not policy.same_morning:
            return (
                "La structure n'accepte pas les absences signalées le jour même : "
                "contactez-la directement."
            )
        if now_local.time().replace(tzinfo=None) > policy.until:
            return (
                f"Les absences du jour même se signalent avant {policy.until:%H:%M} : "
                "contactez directement la structure."
            )
    return None


def clean_note(text: str) -> str:
    note = " ".join((text or "").split())
    if len(note) > MAX_NOTE:
        raise AbsenceError(f"Le message ne peut pas dépasser {MAX_NOTE} caractères.")
    return note


def decide(current: AbsenceStatus, justified: bool) -> AbsenceStatus:
    """The status after a staff decision; only a declaration still waiting is decided."""
    if current is not AbsenceStatus.DECLARED:
        raise AbsenceError("Cette absence a déjà été traitée.")
    return AbsenceStatus.JUSTIFIED if justified else AbsenceStatus.UNJUSTIFIED
