"""Reminder keys: one balance check per structure and day, one template per structure and
level (the same SQL on both engines)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T20:29:41:000001"
VERSION = "1.38.0"
DESCRIPTION = "reminder keys"

STATEMENTS = [
    "CREATE UNIQUE INDEX balance_check_day_uniq ON balance_check (structure, day)",
    "CREATE UNIQUE INDEX reminder_template_level_uniq ON reminder_template (structure, level)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run() -> None:
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
