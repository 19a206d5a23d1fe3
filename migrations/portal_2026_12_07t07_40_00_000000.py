"""Archived activities: the year rollover stamps the previous year's activities, which
staff may then consult but no longer change (nor their days, tariffs, enrolments and
bookings)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T07:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "activities archived by the year rollover"


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
        table_class_name="Activity",
        tablename="activity",
        column_name="archived_at",
        db_column_name="archived_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params=_params(null=True, default=None),
        schema=None,
    )
    return manager
