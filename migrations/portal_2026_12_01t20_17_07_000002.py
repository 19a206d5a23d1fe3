"""SEPA keys: one live mandate per family (partial index), one run per structure and month,
one debit per run and wallet; the same SQL on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T20:17:07:000002"
VERSION = "1.38.0"
DESCRIPTION = "sepa keys"

STATEMENTS = [
    "CREATE UNIQUE INDEX sepa_mandate_live_uniq ON sepa_mandate (family) WHERE revoked_at IS NULL",
    "CREATE UNIQUE INDEX sepa_debit_run_month_uniq ON sepa_debit_run (structure, month)",
    "CREATE UNIQUE INDEX sepa_debit_run_wallet_uniq ON sepa_debit (debit_run, wallet)",
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
