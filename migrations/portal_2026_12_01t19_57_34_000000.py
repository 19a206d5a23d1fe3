"""Régie papers: the letterhead of a structure (address, logo, signatory) and the tax
category of each activity (garde, repas, autre)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-01T19:57:34:000000"
VERSION = "1.38.0"
DESCRIPTION = "structure profile and activity categories"


class Structure(Table, tablename="structure", schema=None):
    id = Serial(primary_key=True)


class Activity(Table, tablename="activity", schema=None):
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


def _fk(references: type[Table], **overrides: Any) -> dict[str, Any]:
    return _params(
        references=references,
        on_delete=OnDelete.cascade,
        on_update=OnUpdate.cascade,
        target_column=None,
        **overrides,
    )


TABLES: list[tuple[str, str, list[tuple[str, Any, dict[str, Any]]]]] = [
    (
        "StructureProfile",
        "structure_profile",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, unique=True)),
            ("address", Text, _params(default="")),
            ("logo_data_uri", Text, _params(default="")),
            ("signatory", Varchar, _params(length=200, default="")),
            ("updated_at", Timestamptz, _params(default=TimestamptzNow())),
        ],
    ),
    (
        "ActivityCategory",
        "activity_category",
        [
            ("id", Serial, _params(primary_key=True)),
            ("activity", ForeignKey, _fk(Activity, unique=True)),
            ("category", Varchar, _params(length=10, default="")),
        ],
    ),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    for class_name, tablename, columns in TABLES:
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, params in columns:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params=params,
                schema=None,
            )
    return manager
