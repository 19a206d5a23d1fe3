"""Back-office daily tools (issue 17): each structure's kitchen address, and the attendance
sheets taken with « Tous présents », the times seen for time-entry activities, the tariff
bands by quotient familial and the bands chosen by staff for a family."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Integer, Serial, Time, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-07T01:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "back-office kitchen settings, attendance sheets and times"


class Structure(Table, tablename="structure", schema=None):
    id = Serial(primary_key=True)


class ActivityDay(Table, tablename="activity_day", schema=None):
    id = Serial(primary_key=True)


class Reservation(Table, tablename="reservation", schema=None):
    id = Serial(primary_key=True)


class Family(Table, tablename="family", schema=None):
    id = Serial(primary_key=True)


def _params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(overrides)
    return params


def _fk(references: type[Table], **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "references": references,
        "on_delete": OnDelete.cascade,
        "on_update": OnUpdate.cascade,
        "target_column": None,
    }
    params.update(overrides)
    return _params(**params)


TABLES: list[tuple[str, str, list[tuple[str, Any, dict[str, Any]]]]] = [
    (
        "BackOfficeSettings",
        "back_office_settings",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, unique=True)),
            ("kitchen_email", Varchar, _params(length=254, default="")),
            ("holiday_zone", Varchar, _params(length=1, default="")),
            ("updated_at", Timestamptz, _params(default=TimestamptzNow())),
        ],
    ),
    (
        "AttendanceSheet",
        "attendance_sheet",
        [
            ("id", Serial, _params(primary_key=True)),
            ("activity_day", ForeignKey, _fk(ActivityDay, unique=True)),
            ("staff_login", Varchar, _params(length=150, default="")),
            ("taken_at", Timestamptz, _params(default=TimestamptzNow())),
        ],
    ),
    (
        "AttendanceTime",
        "attendance_time",
        [
            ("id", Serial, _params(primary_key=True)),
            ("reservation", ForeignKey, _fk(Reservation, unique=True)),
            ("arrival", Time, _params()),
            ("departure", Time, _params()),
            ("minutes", Integer, _params(default=0)),
            ("staff_login", Varchar, _params(length=150, default="")),
            ("recorded_at", Timestamptz, _params(default=TimestamptzNow())),
        ],
    ),
    (
        "QuotientBand",
        "quotient_band",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, index=True)),
            ("band", Varchar, _params(length=20, default="")),
            ("qf_max", Integer, _params(default=None, null=True)),
        ],
    ),
    (
        "BandOverride",
        "band_override",
        [
            ("id", Serial, _params(primary_key=True)),
            ("family", ForeignKey, _fk(Family, unique=True)),
            ("band", Varchar, _params(length=20, default="")),
            ("reason", Varchar, _params(length=200, default="")),
            ("staff_login", Varchar, _params(length=150, default="")),
            ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ],
    ),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    for class_name, tablename, columns in TABLES:
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params=params,
                schema=None,
            )
    return manager
