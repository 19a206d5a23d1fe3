"""Task leases: one outbox relay at a time (the minute sweep checks the lease)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T20:03:54:494453"
VERSION = "1.38.0"
DESCRIPTION = "task leases"


def _params(**overrides: object) -> dict[str, object]:
    params: dict[str, object] = {
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


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)
    manager.add_table(class_name="TaskLease", tablename="task_lease", schema=None, columns=None)
    for name, column_class, params in [
        ("id", Serial, _params(primary_key=True)),
        ("name", Varchar, _params(length=60, default="", unique=True)),
        ("holder", Varchar, _params(length=80, default="")),
        ("expires_at", Timestamptz, _params(default=TimestamptzNow())),
    ]:
        manager.add_column(
            table_class_name="TaskLease",
            tablename="task_lease",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
