"""Tables of the back office's daily tools (issue 17): the structure's kitchen address, and
the attendance sheets taken (a sheet confirmed with « Tous présents », by whom and when),
and the times actually seen for time-entry activities."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Serial, Time, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import ActivityDay, Family, Reservation, Structure


class BackOfficeSettings(Table):
    """A structure's settings for the kitchen sheet (one row per structure, made on save)."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, unique=True)
    # Where the day's numbers are e-mailed at the booking deadline ("" = not e-mailed).
    kitchen_email = Varchar(length=254, default="")
    # The French school holiday zone (A, B or C; "" = not set): the year rollover skips them.
    holiday_zone = Varchar(length=1, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class AttendanceSheet(Table):
    """An activity day whose attendance was taken: everyone not marked absent was there."""

    id = Serial(primary_key=True)
    activity_day = ForeignKey(references=ActivityDay, unique=True)
    staff_login = Varchar(length=150, default="")
    taken_at = Timestamptz(default=TimestamptzNow())


class AttendanceTime(Table):
    """The arrival and departure actually seen for a time-entry reservation (the booked
    ones stay on the reservation): the hours « réalisées » of the statistics."""

    id = Serial(primary_key=True)
    reservation = ForeignKey(references=Reservation, unique=True)
    arrival = Time()
    departure = Time()
    minutes = Integer(default=0)
    staff_login = Varchar(length=150, default="")
    recorded_at = Timestamptz(default=TimestamptzNow())


class QuotientBand(Table):
    """A tariff band of a structure and the highest quotient familial it takes (NULL: no
    ceiling, the band of families without a valid QF)."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    band = Varchar(length=20)
    qf_max = Integer(null=True, default=None)


class BandOverride(Table):
    """A band chosen by staff for one family, whatever its QF (audited)."""

    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, unique=True)
    band = Varchar(length=20)
    reason = Varchar(length=200, default="")
    staff_login = Varchar(length=150, default="")
    created_at = Timestamptz(default=TimestamptzNow())


BACK_OFFICE_TABLES: list[type[Table]] = [
    BackOfficeSettings,
    AttendanceSheet,
    AttendanceTime,
    QuotientBand,
    BandOverride,
]

__all__ = [
    "BACK_OFFICE_TABLES",
    "AttendanceSheet",
    "AttendanceTime",
    "BackOfficeSettings",
    "BandOverride",
    "QuotientBand",
]
