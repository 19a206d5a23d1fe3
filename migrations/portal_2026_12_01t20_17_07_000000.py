"""SEPA direct debit: creditor settings per structure, mandates, monthly runs and debits.

sepa_debit, which references two of these tables, comes in the next migration, then the
unique keys that Piccolo cannot declare (raw SQL runs before the tables of its own
migration are created).
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-01T20:17:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "sepa direct debit"


class Structure(Table, tablename="structure", schema=None):
    id = Serial(primary_key=True)


class Family(Table, tablename="family", schema=None):
    id = Serial(primary_key=True)


class Account(Table, tablename="account", schema=None):
    id = Serial(primary_key=True)


class Wallet(Table, tablename="wallet", schema=None):
    id = Serial(primary_key=True)


class LedgerEntry(Table, tablename="ledger_entry", schema=None):
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
        "SepaCreditor",
        "sepa_creditor",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, unique=True)),
            ("creditor_name", Varchar, _params(length=70, default="")),
            ("creditor_id", Varchar, _params(length=35, default="")),
            ("iban", Varchar, _params(length=34, default="")),
            ("bic", Varchar, _params(length=11, default="")),
            ("debit_day", Integer, _params(default=10)),
            ("notice_days", Integer, _params(default=14)),
            ("basis", Varchar, _params(length=10, default="debt")),
            ("active", Boolean, _params(default=True)),
            ("updated_at", Timestamptz, _now()),
        ],
    ),
    (
        "SepaMandate",
        "sepa_mandate",
        [
            ("id", Serial, _params(primary_key=True)),
            ("family", ForeignKey, _fk(Family, index=True)),
            ("reference", Varchar, _params(length=35, default="", unique=True)),
            ("holder", Varchar, _params(length=70, default="")),
            ("iban", Varchar, _params(length=34, default="")),
            ("bic", Varchar, _params(length=11, default="")),
            ("signed_on", Date, _params(default=DateNow())),
            ("signed_at", Timestamptz, _now()),
            ("source", Varchar, _params(length=10, default="online")),
            ("account", ForeignKey, _fk(Account, null=True, on_delete=OnDelete.set_null)),
            ("notice_days", Integer, _params(default=14)),
            ("revoked_at", Timestamptz, _null_time()),
            ("revoked_by", Varchar, _params(length=150, default="")),
            ("created_at", Timestamptz, _now()),
        ],
    ),
    (
        "SepaDebitRun",
        "sepa_debit_run",
        [
            ("id", Serial, _params(primary_key=True)),
            ("structure", ForeignKey, _fk(Structure, index=True)),
            ("month", Varchar, _params(length=7, default="")),
            ("collection_date", Date, _params(default=DateNow())),
            ("basis", Varchar, _params(length=10, default="debt")),
            ("created_by", Varchar, _params(length=150, default="")),
            ("created_at", Timestamptz, _now()),
            ("posted_at", Timestamptz, _null_time()),
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
