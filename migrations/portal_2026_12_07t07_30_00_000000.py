"""Health documents: a document type may be marked as health data (a PAI, a medical
certificate, a vaccination record). Staff without health access no longer open or decide
such documents. The next migration marks the existing health types (Piccolo runs a
migration's raw SQL before its new columns)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T07:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "document types marked as health data"


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


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_column(
        table_class_name="DocumentType",
        tablename="document_type",
        column_name="health",
        db_column_name="health",
        column_class_name="Boolean",
        column_class=Boolean,
        params=_params(default=False),
        schema=None,
    )

    return manager
