"""Existing document types with the codes the portal ships for health papers (a PAI, a
medical certificate, a vaccination record) are marked as health data; other types stay as
they are, for an administrator to mark."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T07:30:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "health document types marked"

STATEMENT = "UPDATE document_type SET health = TRUE WHERE code IN ('pai', 'certificat', 'vaccins')"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run() -> None:
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        await engine.run_ddl(STATEMENT)

    manager.add_raw(run)
    return manager
