"""A child's presence on an accepted day, as the attendance sheet records it."""

from __future__ import annotations

from enum import StrEnum


class Presence(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    JUSTIFIED = "justifie"

    @property
    def label(self) -> str:
        return {
            Presence.PRESENT: "Présent",
            Presence.ABSENT: "Absent (facturé)",
            Presence.JUSTIFIED: "Absence justifiée (non facturée)",
        }[self]

    @property
    def flags(self) -> tuple[bool, bool]:
        """(absent, absence_justified) as stored on the reservation."""
        return (self is not Presence.PRESENT, self is Presence.JUSTIFIED)

    @classmethod
    def of(cls, absent: bool, justified: bool) -> Presence:
        if not absent:
            return cls.PRESENT
        return cls.JUSTIFIED if justified else cls.ABSENT
