"""Keys of the family-file tables that Piccolo cannot declare (partial and composite)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T19:55:30:000001"
VERSION = "1.38.0"
DESCRIPTION = "family file keys"

KEY_STATEMENTS = [
    "CREATE UNIQUE INDEX document_type_code_uniq ON document_type (structure, code)",
    # One open change per child: a second edit updates it.
    "CREATE UNIQUE INDEX pending_change_open_uniq ON pending_change (person)"
    " WHERE status = 'pending'",
    "CREATE UNIQUE INDEX enrolment_request_open_uniq ON enrolment_request (person, activity)"
    " WHERE status = 'pending'",
    "CREATE INDEX family_document_status_idx ON family_document (status, valid_until)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def run():
        from piccolo.conf.apps import Finder

        engine = Finder().get_engine()
        for statement in KEY_STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
