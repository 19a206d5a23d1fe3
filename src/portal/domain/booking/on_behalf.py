"""Who books, and which rules a clerk chose to override when booking for a family.

A parent books for their own family; a clerk books the same way from the back office (a
phone request). Every rule applies to both; the clerk may, explicitly and with a reason,
override the booking and cancellation deadlines and the capacity of a day. What was
overridden is reported per item, so that the staff service audits it in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Booker(StrEnum):
    """Recorded on the reservation (``created_by``) and the movement (``actor``)."""

    PARENT = "parent"
    STAFF = "staff"


@dataclass(frozen=True)
class Override:
    """Rules a clerk chose to pass over for one basket (never for a parent)."""

    deadlines: bool = False
    capacity: bool = False

    @property
    def active(self) -> bool:
        return self.deadlines or self.capacity

    @property
    def labels(self) -> tuple[str, ...]:
        chosen = []
        if self.deadlines:
            chosen.append("délais de réservation et d'annulation")
        if self.capacity:
            chosen.append("capacité des journées")
        return tuple(chosen)


NO_OVERRIDE = Override()


class Overridden(StrEnum):
    """What one item actually needed of the override (the audit says it per item)."""

    DEADLINE = "deadline"
    CAPACITY = "capacity"

    @property
    def label(self) -> str:
        return "hors délai" if self is Overridden.DEADLINE else "au-delà de la capacité"
