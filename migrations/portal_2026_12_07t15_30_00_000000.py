"""Two priority criteria of booking periods need facts the family file did not hold: the
household's parents all working (proven to staff, with the proof's end) and a child's
recognised disability (health data, with the notification's end)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Date
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "priority facts: parents working, child with a disability"


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
        table_class_name="FamilyContact",
        tablename="family_contact",
        column_name="parents_working_until",
        db_column_name="parents_working_until",
        column_class_name="Date",
        column_class=Date,
        params=_params(null=True, default=None),
        schema=None,
    )
    manager.add_column(
        table_class_name="ChildFile",
        tablename="child_file",
        column_name="disability",
        db_column_name="disability",
        column_class_name="Boolean",
        column_class=Boolean,
        params=_params(default=False),
        schema=None,
    )
    manager.add_column(
        table_class_name="ChildFile",
        tablename="child_file",
        column_name="disability_end",
        db_column_name="disability_end",
        column_class_name="Date",
        column_class=Date,
        params=_params(null=True, default=None),
        schema=None,
    )
    return manager
