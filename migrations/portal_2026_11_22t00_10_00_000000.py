"""Keys and constraints Piccolo cannot declare: composite uniques, one live reservation per
person and day, ledger idempotence, and CHECKs that stop a counter from passing capacity.

SQLite cannot add a CHECK to an existing table, so there the same rules are triggers that
abort the statement; PostgreSQL gets real CHECK constraints.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-11-22T00:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "constraints and composite keys"

SHARED_STATEMENTS = [
    "CREATE UNIQUE INDEX account_family_uniq ON account_family (account, family)",
    "CREATE UNIQUE INDEX wallet_family_type_uniq ON wallet (family, wallet_type)",
    "CREATE UNIQUE INDEX enrollment_person_activity_uniq ON enrollment (person, activity)",
    "CREATE UNIQUE INDEX rules_ack_person_document_uniq"
    " ON rules_acknowledgement (person, document)",
    "CREATE UNIQUE INDEX rules_document_version_uniq ON rules_document (structure, version)",
    "CREATE UNIQUE INDEX tariff_activity_band_from_uniq ON tariff (activity, band, valid_from)",
    "CREATE UNIQUE INDEX activity_day_uniq ON activity_day (activity, day)",
    "CREATE UNIQUE INDEX staff_structure_uniq ON staff_structure (staff, structure)",
    # A person holds at most one live request per activity day.
    "CREATE UNIQUE INDEX reservation_live_uniq ON reservation (person, activity_day)"
    " WHERE status IN ('accepted', 'waitlisted', 'pending')",
    # Waitlist ranks of one day never collide.
    "CREATE UNIQUE INDEX reservation_rank_uniq ON reservation (activity_day, waitlist_rank)"
    " WHERE status = 'waitlisted'",
    "CREATE INDEX movement_untransmitted_idx ON movement (transmitted_at)",
    "CREATE INDEX outbox_pending_idx ON outbox_email (status, next_attempt_at)",
]

# Each rule is written once with "{p}" before column names: "" for a PostgreSQL CHECK,
# "NEW." inside a SQLite trigger.
GUARDED_RULES = [
    (
        "activity_day",
        "activity_day_accepted_within_capacity",
        "{p}accepted_count >= 0 AND ({p}capacity IS NULL OR {p}accepted_count <= {p}capacity)",
    ),
    (
        "activity_day",
        "activity_day_waitlisted_within_capacity",
        "{p}waitlisted_count >= 0 AND ({p}waitlist_capacity IS NULL"
        " OR {p}waitlisted_count <= {p}waitlist_capacity)",
    ),
    (
        "reservation",
        "reservation_status_valid",
        "{p}status IN ('accepted', 'waitlisted', 'pending', 'refused', 'cancelled')",
    ),
    (
        "ledger_entry",
        "ledger_entry_sign",
        "{p}kind IN ('debit', 'credit') AND ({p}kind = 'credit') = ({p}amount_cents > 0)",
    ),
]


def _sqlite_statements() -> list[str]:
    return [
        f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON {table} FOR EACH ROW "
        f"WHEN NOT ({rule.format(p='NEW.')}) "
        f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
        for table, name, rule in GUARDED_RULES
        for event in ("INSERT", "UPDATE")
    ]


def _postgres_statements() -> list[str]:
    return [
        f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({rule.format(p='')})"
        for table, name, rule in GUARDED_RULES
    ]


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
