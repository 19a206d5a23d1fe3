"""Triggers that change a family's (or a structure's) data version on every write to what
its booking scope is made of, so that a cached scope is never served stale whatever code
path (or hand-written SQL) made the write.

The version is a fresh random number, not a counter (see portal.tables.versions).
PostgreSQL bumps once per statement (transition tables: a bulk posting of 100,000 ledger
entries touches each family once); SQLite has row triggers only. Updates of a reservation
bump only when a column the parent sees changes (not the nightly ``transmitted_at``).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-01T20:47:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "scope version triggers"

# (table, kind, owner column, owner through person?, update columns or None for all)
WATCHED = [
    ("family", "f", "id", False, None),
    ("person", "f", "family", False, None),
    ("enrollment", "f", "person", True, None),
    ("rules_acknowledgement", "f", "person", True, None),
    ("wallet", "f", "family", False, None),
    ("ledger_entry", "f", "family", False, None),
    ("online_payment", "f", "family", False, None),
    (
        "reservation",
        "f",
        "family",
        False,
        (
            "family",
            "person",
            "activity_day",
            "status",
            "waitlist_rank",
            "arrival",
            "departure",
            "quantity",
        ),
    ),
    # The family file (portal.tables.family_file): its state closes booking.
    ("family_contact", "f", "family", False, None),
    ("household_adult", "f", "family", False, None),
    ("child_file", "f", "person", True, None),
    ("pending_change", "f", "family", False, None),
    ("family_document", "f", "family", False, None),
    ("enrolment_request", "f", "family", False, None),
    ("file_settings", "s", "structure", False, None),
    ("document_type", "s", "structure", False, None),
    ("structure", "s", "id", False, None),
    ("activity", "s", "structure", False, None),
    ("rules_document", "s", "structure", False, None),
    ("wallet_type", "s", "structure", False, None),
]

SHARED_STATEMENTS = [
    "CREATE UNIQUE INDEX scope_version_kind_owner_uniq ON scope_version (kind, owner)",
]


def _sqlite_owner(row: str, column: str, via_person: bool) -> str:
    if via_person:
        return f"(SELECT family FROM person WHERE id = {row}.{column})"  # noqa: S608 (constants)
    return f"{row}.{column}"


def _sqlite_bump(kind: str, owner: str) -> str:
    return (
        f"INSERT INTO scope_version (kind, owner, version) SELECT '{kind}', {owner}, random() "
        f"WHERE {owner} IS NOT NULL "
        "ON CONFLICT (kind, owner) DO UPDATE SET version = excluded.version;"
    )


def _sqlite_statements() -> list[str]:
    statements = []
    for table, kind, column, via_person, columns in WATCHED:
        new = _sqlite_owner("NEW", column, via_person)
        old = _sqlite_owner("OLD", column, via_person)
        of = f" OF {', '.join(columns)}" if columns else ""
        statements += [
            f"CREATE TRIGGER {table}_scope_version_insert AFTER INSERT ON {table} "
            f"FOR EACH ROW BEGIN {_sqlite_bump(kind, new)} END",
            f"CREATE TRIGGER {table}_scope_version_update AFTER UPDATE{of} ON {table} "
            f"FOR EACH ROW BEGIN {_sqlite_bump(kind, new)} {_sqlite_bump(kind, old)} END",
            f"CREATE TRIGGER {table}_scope_version_delete AFTER DELETE ON {table} "
            f"FOR EACH ROW BEGIN {_sqlite_bump(kind, old)} END",
        ]
    return statements


POSTGRES_FUNCTIONS = [
    # Statement level: TG_ARGV = (kind, owner expression over the transition table "rows").
    """
    CREATE OR REPLACE FUNCTION portal_bump_scope_versions() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        EXECUTE format(
            'INSERT INTO scope_version (kind, owner, version) '
            'SELECT %L, o, (random() * 9e15)::bigint '
            'FROM (SELECT DISTINCT %s AS o FROM changed_rows) AS c WHERE o IS NOT NULL '
            'ORDER BY o '
            'ON CONFLICT (kind, owner) DO UPDATE SET version = EXCLUDED.version',
            TG_ARGV[0], TG_ARGV[1]);
        RETURN NULL;
    END
    $$
    """,
    # Row level (updates restricted to some columns): TG_ARGV = (kind, owner column).
    """
    CREATE OR REPLACE FUNCTION portal_bump_scope_version_row() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        owners integer[] := ARRAY[
            (to_jsonb(NEW) ->> TG_ARGV[1])::integer, (to_jsonb(OLD) ->> TG_ARGV[1])::integer];
    BEGIN
        INSERT INTO scope_version (kind, owner, version)
        SELECT TG_ARGV[0], o, (random() * 9e15)::bigint
        FROM (SELECT DISTINCT u AS o FROM unnest(owners) AS u) AS c WHERE o IS NOT NULL
        ON CONFLICT (kind, owner) DO UPDATE SET version = EXCLUDED.version;
        RETURN NULL;
    END
    $$
    """,
]


def _postgres_owner(column: str, via_person: bool) -> str:
    if via_person:
        return f"(SELECT p.family FROM person p WHERE p.id = changed_rows.{column})"  # noqa: S608
    return f"changed_rows.{column}"


def _postgres_statements() -> list[str]:
    statements = list(POSTGRES_FUNCTIONS)
    for table, kind, column, via_person, columns in WATCHED:
        owner = _postgres_owner(column, via_person).replace("'", "''")
        call = f"EXECUTE FUNCTION portal_bump_scope_versions('{kind}', '{owner}')"
        statements += [
            f"CREATE TRIGGER {table}_scope_version_insert AFTER INSERT ON {table} "
            f"REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT {call}",
            f"CREATE TRIGGER {table}_scope_version_delete AFTER DELETE ON {table} "
            f"REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT {call}",
        ]
        if columns:
            statements.append(
                f"CREATE TRIGGER {table}_scope_version_update "
                f"AFTER UPDATE OF {', '.join(columns)} ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION portal_bump_scope_version_row('{kind}', '{column}')"
            )
        else:
            statements += [
                f"CREATE TRIGGER {table}_scope_version_update AFTER UPDATE ON {table} "
                f"REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT {call}",
                f"CREATE TRIGGER {table}_scope_version_update_old AFTER UPDATE ON {table} "
                f"REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT {call}",
            ]
    return statements


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        specific = (
            _sqlite_statements() if isinstance(engine, SQLiteEngine) else _postgres_statements()
        )
        for statement in SHARED_STATEMENTS + specific:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
