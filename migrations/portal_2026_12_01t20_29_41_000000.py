"""Money reminders: each structure's choices, low-balance alerts (threshold and state per
family), the day each structure was checked, debt reminder templates and the reminders
sent."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-01T20:29:41:000000"
VERSION = "1.38.0"
DESCRIPTION = "money reminders"


class Structure(Table, tablename="structure", schema=None):
    id = Serial(primary_key=True)


class Family(Table, tablename="family", schema=None):
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
    params: dict[str, Any] = {
        "references": references,
        "on_delete": OnDelete.cascade,
        "on_update": OnUpdate.cascade,
        "target_column": None,
    }
    params.update(overrides)
    return _params(**params)


def _now() -> dict[str, Any]:
    return _params(default=TimestamptzNow())


def _null_time() -> dict[str, Any]:
    return _params(default=None, null=True)


TABLES: list[tuple[str, str, list[tuple[str, Any, dict[str, Any]]]]] = [
    (
        "ReminderSettings",
        "reminder_settings",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, unique=True)),
            ("low_balance_alerts", Boolean, _params(default=False)),
            ("debt_days", Integer, _params(default=15)),
            ("updated_at", Timestamptz, _now()),
        ],
    ),
    (
        "BalanceAlert",
        "balance_alert",
        [
            ("id", Serial, _params(primary_key=True)),
            ("family", ForeignKey, _fk(Family, unique=True)),
            ("threshold_cents", Integer, _params(default=0)),
            ("below", Boolean, _params(default=False)),
            ("alerts_sent", Integer, _params(default=0)),
            ("last_alert_at", Timestamptz, _null_time()),
            ("recovered_at", Timestamptz, _null_time()),
            ("updated_at", Timestamptz, _now()),
        ],
    ),
    (
        "BalanceCheck",
        "balance_check",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, index=True)),
            ("day", Date, _params(default=DateNow())),
            ("checked_at", Timestamptz, _now()),
        ],
    ),
    (
        "ReminderTemplate",
        "reminder_template",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, index=True)),
            ("level", Integer, _params(default=1)),
            ("subject", Varchar, _params(length=200, default="")),
            ("body", Text, _params(default="")),
            ("updated_at", Timestamptz, _now()),
        ],
    ),
    (
        "DebtReminder",
        "debt_reminder",
        [
            ("id", Serial, _params(primary_key=True)),
            ("family", ForeignKey, _fk(Family, index=True)),
            ("level", Integer, _params(default=1)),
            ("channel", Varchar, _params(length=10, default="email")),
            ("amount_cents", Integer, _params(default=0)),
            ("debt_since", Date, _params(default=None, null=True)),
            ("staff_login", Varchar, _params(length=150, default="")),
            ("sent_at", Timestamptz, _now()),
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
