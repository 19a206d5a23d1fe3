"""Booking periods: scheduled openings of some activities' days with an allocation mode,
the activities of each period, and the requests confirmed during a window (holding no
place until the allocation); one request per person and day of a period."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-07T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "booking periods"


class Structure(Table, tablename="structure", schema=None):
    id = Serial(primary_key=True)


class Activity(Table, tablename="activity", schema=None):
    id = Serial(primary_key=True)


class ActivityDay(Table, tablename="activity_day", schema=None):
    id = Serial(primary_key=True)


class Family(Table, tablename="family", schema=None):
    id = Serial(primary_key=True)


class Person(Table, tablename="person", schema=None):
    id = Serial(primary_key=True)


class Reservation(Table, tablename="reservation", schema=None):
    id = Serial(primary_key=True)


class BookingPeriod(Table, tablename="booking_period", schema=None):
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


def _null() -> dict[str, Any]:
    return _params(default=None, null=True)


TABLES: list[tuple[str, str, list[tuple[str, Any, dict[str, Any]]]]] = [
    (
        "BookingPeriod",
        "booking_period",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, index=True)),
            ("name", Varchar, _params(length=200, default="")),
            ("first_day", Date, _params(default=DateNow())),
            ("last_day", Date, _params(default=DateNow())),
            ("opens_at", Timestamptz, _params(default=TimestamptzNow())),
            ("mode", Varchar, _params(length=12, default="first_come")),
            ("window_ends_at", Timestamptz, _null()),
            ("criteria", Varchar, _params(length=200, default="")),
            ("resident_postcodes", Varchar, _params(length=200, default="")),
            ("seed", Varchar, _params(length=64, default="")),
            ("notes", Text, _params(default="")),
            ("allocation_started_at", Timestamptz, _null()),
            ("allocated_at", Timestamptz, _null()),
            ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ],
    ),
    (
        "BookingPeriodActivity",
        "booking_period_activity",
        [
            ("id", Serial, _params(primary_key=True)),
            ("period", ForeignKey, _fk(BookingPeriod, index=True)),
            ("activity", ForeignKey, _fk(Activity, index=True)),
        ],
    ),
    (
        "PeriodRequest",
        "period_request",
        [
            ("id", Serial, _params(primary_key=True)),
            ("period", ForeignKey, _fk(BookingPeriod, index=True)),
            ("family", ForeignKey, _fk(Family, index=True)),
            ("person", ForeignKey, _fk(Person, index=True)),
            ("activity_day", ForeignKey, _fk(ActivityDay, index=True)),
            ("arrival", Time, _null()),
            ("departure", Time, _null()),
            ("quantity", Integer, _params(default=1)),
            ("requested_at", Timestamptz, _params(default=TimestamptzNow())),
            ("status", Varchar, _params(length=12, default="waiting")),
            ("criteria_values", Varchar, _params(length=300, default="")),
            ("draw", Varchar, _params(length=64, default="")),
            ("remark", Varchar, _params(length=200, default="")),
            ("waitlist_rank", Integer, _null()),
            (
                "reservation",
                ForeignKey,
                _fk(Reservation, null=True, default=None, on_delete=OnDelete.set_null),
            ),
            ("decided_at", Timestamptz, _null()),
        ],
    ),
]

STATEMENTS = [
    "CREATE UNIQUE INDEX booking_period_activity_uniq ON booking_period_activity"
    " (period, activity)",
    # A person asks for a day of a period once (the request is then decided in place).
    "CREATE UNIQUE INDEX period_request_person_day_uniq ON period_request"
    " (period, person, activity_day)",
    "CREATE INDEX period_request_status_idx ON period_request (period, status)",
]


async def forwards() -> MigrationManager:
    """One raw step: Piccolo runs raw steps before the tables it is asked to add, so the
    tables are created here (Piccolo's own DDL for each engine), then their keys."""
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run() -> None:
        from piccolo.conf.apps import Finder
        from piccolo.table import create_table_class

        engine = Finder().get_engine()
        for class_name, tablename, columns in TABLES:
            members = {}
            for name, column_class, params in columns:
                column = column_class(**params)
                column._meta.name = name
                members[name] = column
            table = create_table_class(
                class_name=class_name,
                class_kwargs={"tablename": tablename, "schema": None},
                class_members=members,
            )
            await table.create_table().run()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
