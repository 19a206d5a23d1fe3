"""Tables of the booking periods: a structure's scheduled opening of some activities' days
(its instant, its allocation mode, the ranked criteria and the published seed), and the
requests parents confirm during a window, which hold no place until the allocation."""

from __future__ import annotations

from piccolo.columns import (
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import Activity, ActivityDay, Family, Person, Reservation, Structure


class BookingPeriod(Table):
    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    name = Varchar(length=200)
    first_day = Date()
    last_day = Date()
    opens_at = Timestamptz()
    # "first_come" (today's behaviour), "lottery" or "priority".
    mode = Varchar(length=12, default="first_come")
    # Window modes: requests confirmed before this instant are allocated together.
    window_ends_at = Timestamptz(null=True, default=None)
    # Ranked criteria codes, comma-separated, highest first (see domain.periods.rules).
    criteria = Varchar(length=200, default="")
    # Postcodes of the commune, for the "resident" criterion (comma-separated).
    resident_postcodes = Varchar(length=200, default="")
    # Published before the opening: anyone can recompute the draw from it.
    seed = Varchar(length=64)
    notes = Text(default="")
    # Set when the allocation froze the criteria and draw of every request (its claim).
    allocation_started_at = Timestamptz(null=True, default=None)
    # Set once every request is decided and every family's message is queued.
    allocated_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class BookingPeriodActivity(Table):
    id = Serial(primary_key=True)
    period = ForeignKey(references=BookingPeriod, index=True)
    activity = ForeignKey(references=Activity, index=True)


class PeriodRequest(Table):
    """A day asked for during a window: no place is held, no counter moves until the
    allocation decides it (then ``reservation`` points at the register's row)."""

    id = Serial(primary_key=True)
    period = ForeignKey(references=BookingPeriod, index=True)
    family = ForeignKey(references=Family, index=True)
    person = ForeignKey(references=Person, index=True)
    activity_day = ForeignKey(references=ActivityDay, index=True)
    arrival = Time(null=True, default=None)
    departure = Time(null=True, default=None)
    quantity = Integer(default=1)
    requested_at = Timestamptz(default=TimestamptzNow())
    # "waiting", then "accepted", "waitlisted" or "refused".
    status = Varchar(length=12, default="waiting")
    # Frozen by the allocation's claim: the criteria values ("resident=1;...") and the
    # draw number (hex SHA-256 of the seed and the request id).
    criteria_values = Varchar(length=300, default="")
    draw = Varchar(length=64, default="")
    remark = Varchar(length=200, default="")
    waitlist_rank = Integer(null=True, default=None)
    reservation = ForeignKey(
        references=Reservation, null=True, default=None, on_delete=OnDelete.set_null
    )
    decided_at = Timestamptz(null=True, default=None)


PERIOD_TABLES: list[type[Table]] = [BookingPeriod, BookingPeriodActivity, PeriodRequest]
