"""Tables of the parents' tools: saved weekly patterns ("semaine type"), declared absences
("enfant malade") with each structure's setting, and the private calendar feed."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import Account, Family, Person, Reservation, Structure


class WeekPattern(Table):
    """A child's usual week: which activity on which weekdays (0 = Monday)."""

    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    person = ForeignKey(references=Person, index=True)
    name = Varchar(length=80)
    # JSON text: [[activity_id, weekday], ...]; read through domain/week_pattern/rules.py.
    slots = Text(default="[]")
    updated_at = Timestamptz(default=TimestamptzNow())


class AbsenceSettings(Table):
    """A structure's choice on same-morning declarations (none: allowed until 09:30)."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, unique=True)
    same_morning = Boolean(default=True)
    same_morning_until_minutes = Integer(default=570)  # minutes after local midnight
    updated_at = Timestamptz(default=TimestamptzNow())


class AbsenceDeclaration(Table):
    """A parent's "Signaler une absence" on one accepted reservation, and staff's decision."""

    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    reservation = ForeignKey(references=Reservation, unique=True)
    person = ForeignKey(references=Person, index=True)
    declared_at = Timestamptz(default=TimestamptzNow())
    declared_by = ForeignKey(references=Account, null=True, default=None)
    note = Varchar(length=500, default="")
    # The optional certificate, stored like family documents (outside the web root).
    certificate_key = Varchar(length=64, default="")
    certificate_name = Varchar(length=200, default="")
    certificate_type = Varchar(length=40, default="")
    certificate_size = Integer(default=0)
    status = Varchar(length=12, default="declared")  # declared, justified, unjustified
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=150, default="")


class CalendarFeed(Table):
    """A family's private ICS address: only the SHA-256 of its token is kept."""

    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, unique=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


PARENT_TOOLS_TABLES: list[type[Table]] = [
    WeekPattern,
    AbsenceSettings,
    AbsenceDeclaration,
    CalendarFeed,
]
