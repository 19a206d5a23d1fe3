"""Parents' tools: saved weekly patterns, declared absences and each structure's setting on
them, the private calendar feed. A declared absence changes what the family's calendar
shows, so its writes bump the family's data version like a reservation's (same trigger
functions as migration 2026-12-01T20:47:01)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
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


# The tables are created from the raw step (Table.create_table(), the DDL Piccolo's own
# add_table emits) because Piccolo runs a migration's raw steps before its add_table
# steps, and the triggers below need the table to exist.


class WeekPattern(Table, tablename="week_pattern", schema=None):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True, on_delete=OnDelete.cascade)
    person = ForeignKey(references=Person, index=True, on_delete=OnDelete.cascade)
    name = Varchar(length=80, default="")
    slots = Text(default="[]")
    updated_at = Timestamptz(default=TimestamptzNow())


class AbsenceSettings(Table, tablename="absence_settings", schema=None):
    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, unique=True, on_delete=OnDelete.cascade)
    same_morning = Boolean(default=True)
    same_morning_until_minutes = Integer(default=570)
    updated_at = Timestamptz(default=TimestamptzNow())


class AbsenceDeclaration(Table, tablename="absence_declaration", schema=None):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True, on_delete=OnDelete.cascade)
    reservation = ForeignKey(references=Reservation, unique=True, on_delete=OnDelete.cascade)
    person = ForeignKey(references=Person, index=True, on_delete=OnDelete.cascade)
    declared_at = Timestamptz(default=TimestamptzNow())
    declared_by = ForeignKey(
        references=Account, null=True, default=None, on_delete=OnDelete.set_null
    )
    note = Varchar(length=500, default="")
    certificate_key = Varchar(length=64, default="")
    certificate_name = Varchar(length=200, default="")
    certificate_type = Varchar(length=40, default="")
    certificate_size = Integer(default=0)
    status = Varchar(length=12, default="declared")
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=150, default="")


class CalendarFeed(Table, tablename="calendar_feed", schema=None):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, unique=True, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [WeekPattern, AbsenceSettings, AbsenceDeclaration, CalendarFeed]

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

    async def run() -> None:
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        for table in TABLES:
            await table.create_table().run()
        if isinstance(engine, SQLiteEngine):
            # SQLite cannot add a CHECK to an existing table: the domain enum guards status.
            statements = SQLITE_TRIGGERS
        else:
            statements = CHECKS + POSTGRES_TRIGGERS
        for statement in statements:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
