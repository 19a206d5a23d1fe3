"""Parents' tools: saved weekly patterns, declared absences and each structure's setting on
them, the private calendar feed. A declared absence changes what the family's calendar
shows, so its writes bump the family's data version like a reservation's (same trigger
functions as migration 2026-12-01T20:47:01)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

ID = "2026-12-07T01:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "parent tools: week patterns, declared absences, calendar feed"


class Structure(Table, tablename="structure", schema=None):
    id = Serial(primary_key=True)


class Family(Table, tablename="family", schema=None):
    id = Serial(primary_key=True)


class Person(Table, tablename="person", schema=None):
    id = Serial(primary_key=True)


class Account(Table, tablename="account", schema=None):
    id = Serial(primary_key=True)


class Reservation(Table, tablename="reservation", schema=None):
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


def _now() -> dict[str, Any]:
    return _params(default=TimestamptzNow())


TABLES: list[tuple[str, str, list[tuple[str, Any, dict[str, Any]]]]] = [
    (
        "WeekPattern",
        "week_pattern",
        [
            ("id", Serial, _params(primary_key=True)),
            ("family", ForeignKey, _fk(Family, index=True)),
            ("person", ForeignKey, _fk(Person, index=True)),
            ("name", Varchar, _params(length=80, default="")),
            ("slots", Text, _params(default="[]")),
            ("updated_at", Timestamptz, _now()),
        ],
    ),
    (
        "AbsenceSettings",
        "absence_settings",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, unique=True)),
            ("same_morning", Boolean, _params(default=True)),
            ("same_morning_until_minutes", Integer, _params(default=570)),
            ("updated_at", Timestamptz, _now()),
        ],
    ),
    (
        "AbsenceDeclaration",
        "absence_declaration",
        [
            ("id", Serial, _params(primary_key=True)),
            ("family", ForeignKey, _fk(Family, index=True)),
            ("reservation", ForeignKey, _fk(Reservation, unique=True)),
            ("person", ForeignKey, _fk(Person, index=True)),
            ("declared_at", Timestamptz, _now()),
            (
                "declared_by",
                ForeignKey,
                _fk(Account, null=True, default=None, on_delete=OnDelete.set_null),
            ),
            ("note", Varchar, _params(length=500, default="")),
            ("certificate_key", Varchar, _params(length=64, default="")),
            ("certificate_name", Varchar, _params(length=200, default="")),
            ("certificate_type", Varchar, _params(length=40, default="")),
            ("certificate_size", Integer, _params(default=0)),
            ("status", Varchar, _params(length=12, default="declared")),
            ("decided_at", Timestamptz, _params(default=None, null=True)),
            ("decided_by", Varchar, _params(length=150, default="")),
        ],
    ),
    (
        "CalendarFeed",
        "calendar_feed",
        [
            ("id", Serial, _params(primary_key=True)),
            ("family", ForeignKey, _fk(Family, unique=True)),
            ("token_hash", Varchar, _params(length=64, unique=True)),
            ("created_at", Timestamptz, _now()),
        ],
    ),
]

CHECKS = [
    "ALTER TABLE absence_declaration ADD CONSTRAINT absence_declaration_status_known "
    "CHECK (status IN ('declared', 'justified', 'unjustified'))",
]


def _sqlite_bump(row: str) -> str:
    return (
        "INSERT INTO scope_version (kind, owner, version) "
        f"SELECT 'f', {row}.family, random() WHERE {row}.family IS NOT NULL "
        "ON CONFLICT (kind, owner) DO UPDATE SET version = excluded.version;"
    )


SQLITE_TRIGGERS = [
    "CREATE TRIGGER absence_declaration_scope_version_insert AFTER INSERT ON "
    f"absence_declaration FOR EACH ROW BEGIN {_sqlite_bump('NEW')} END",
    "CREATE TRIGGER absence_declaration_scope_version_update AFTER UPDATE ON "
    f"absence_declaration FOR EACH ROW BEGIN {_sqlite_bump('NEW')} {_sqlite_bump('OLD')} END",
    "CREATE TRIGGER absence_declaration_scope_version_delete AFTER DELETE ON "
    f"absence_declaration FOR EACH ROW BEGIN {_sqlite_bump('OLD')} END",
]

_CALL = "EXECUTE FUNCTION portal_bump_scope_versions('f', 'changed_rows.family')"
POSTGRES_TRIGGERS = [
    "CREATE TRIGGER absence_declaration_scope_version_insert AFTER INSERT ON "
    f"absence_declaration REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT {_CALL}",
    "CREATE TRIGGER absence_declaration_scope_version_delete AFTER DELETE ON "
    f"absence_declaration REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT {_CALL}",
    "CREATE TRIGGER absence_declaration_scope_version_update AFTER UPDATE ON "
    f"absence_declaration REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT {_CALL}",
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

    async def run() -> None:
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        if isinstance(engine, SQLiteEngine):
            # SQLite cannot add a CHECK to an existing table: the domain enum guards status.
            statements = SQLITE_TRIGGERS
        else:
            statements = CHECKS + POSTGRES_TRIGGERS
        for statement in statements:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
