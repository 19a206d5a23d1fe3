"""Booking periods join the structure's data version: the booking scope now carries the
structure's periods (a tap no longer queries them), so every write to a period or to its
list of activities must make cached scopes of that structure stale. Same trigger functions
as migration 2026-12-01T20:47:01; a period's activities reach their structure through the
period."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-07T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "booking periods bump their structure's scope version"

# (table, owner expression over a row named {row})
WATCHED = [
    ("booking_period", "{row}.structure"),
    ("booking_period_activity", "(SELECT structure FROM booking_period WHERE id = {row}.period)"),
]


def _sqlite_bump(owner: str) -> str:
    return (
        "INSERT INTO scope_version (kind, owner, version) "
        f"SELECT 's', {owner}, random() WHERE {owner} IS NOT NULL "
        "ON CONFLICT (kind, owner) DO UPDATE SET version = excluded.version;"
    )


def sqlite_statements() -> list[str]:
    statements = []
    for table, owner in WATCHED:
        new, old = owner.format(row="NEW"), owner.format(row="OLD")
        statements += [
            f"CREATE TRIGGER {table}_scope_version_insert AFTER INSERT ON {table} "
            f"FOR EACH ROW BEGIN {_sqlite_bump(new)} END",
            f"CREATE TRIGGER {table}_scope_version_update AFTER UPDATE ON {table} "
            f"FOR EACH ROW BEGIN {_sqlite_bump(new)} {_sqlite_bump(old)} END",
            f"CREATE TRIGGER {table}_scope_version_delete AFTER DELETE ON {table} "
            f"FOR EACH ROW BEGIN {_sqlite_bump(old)} END",
        ]
    return statements


def postgres_statements() -> list[str]:
    statements = []
    for table, owner in WATCHED:
        expression = owner.format(row="changed_rows").replace("'", "''")
        call = f"EXECUTE FUNCTION portal_bump_scope_versions('s', '{expression}')"
        statements += [
            f"CREATE TRIGGER {table}_scope_version_insert AFTER INSERT ON {table} "
            f"REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT {call}",
            f"CREATE TRIGGER {table}_scope_version_delete AFTER DELETE ON {table} "
            f"REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT {call}",
            f"CREATE TRIGGER {table}_scope_version_update AFTER UPDATE ON {table} "
            f"REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT {call}",
            f"CREATE TRIGGER {table}_scope_version_update_old AFTER UPDATE ON {table} "
            f"REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT {call}",
        ]
    return statements


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run() -> None:
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        statements = (
            sqlite_statements() if isinstance(engine, SQLiteEngine) else postgres_statements()
        )
        for statement in statements:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
