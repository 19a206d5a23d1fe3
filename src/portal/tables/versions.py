"""Data versions: a number per family and per structure that database triggers change on
every write to what a family's booking scope is made of (people, enrolments, rules
signatures, money, bookings; activities, rules documents, wallet types and booking periods
of the structure). A cache of that scope checks the two numbers with one cheap query, and
no code path can forget to invalidate it (see migrations/portal_2026_12_01t20_47_* and
portal_2026_12_07t04_00_*)."""

from __future__ import annotations

from piccolo.columns import BigInt, Integer, Serial, Varchar
from piccolo.table import Table


class ScopeVersion(Table):
    id = Serial(primary_key=True)
    kind = Varchar(length=1)  # "f": a family, "s": a structure
    owner = Integer()  # the family or structure id
    # A fresh random number at each write (not a counter): a version seen once is never
    # seen again for other data, even after ids are reused (tests truncate tables).
    version = BigInt(default=0)


VERSIONS_TABLES: list[type[Table]] = [ScopeVersion]
