"""Monthly statements e-mailed on the 1st: each structure's choice and the last month
mailed. And which staff member may see the health data of a structure's family files
(existing members keep seeing it)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import Boolean, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-07T01:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "statement mail settings, staff health access"


class Structure(Table, tablename="structure", schema=None):
    id = Serial(primary_key=True)


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


COLUMNS: list[tuple[str, Any, dict[str, Any]]] = [
    ("id", Serial, _params(primary_key=True)),
    (
        "structure",
        ForeignKey,
        _params(
            unique=True,
            references=Structure,
            on_delete=OnDelete.cascade,
            on_update=OnUpdate.cascade,
            target_column=None,
        ),
    ),
    ("enabled", Boolean, _params(default=False)),
    ("last_month", Varchar, _params(length=7, default="")),
    ("updated_at", Timestamptz, _params(default=TimestamptzNow())),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_table(
        class_name="StatementMailSettings",
        tablename="statement_mail_settings",
        schema=None,
        columns=None,
    )
    for name, column_class, params in COLUMNS:
        manager.add_column(
            table_class_name="StatementMailSettings",
            tablename="statement_mail_settings",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    manager.add_column(
        table_class_name="StaffStructure",
        tablename="staff_structure",
        column_name="health_access",
        db_column_name="health_access",
        column_class_name="Boolean",
        column_class=Boolean,
        params=_params(default=True),
        schema=None,
    )
    return manager
