"""SEPA debits: one row per run, mandate and wallet (see the previous migration).

The run column is "debit_run": SQLite names the index of a column <table>_<column>, and
"sepa_debit_run" is already a table."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-01T20:17:07:000001"
VERSION = "1.38.0"
DESCRIPTION = "sepa debits"


class Family(Table, tablename="family", schema=None):
    id = Serial(primary_key=True)


class Wallet(Table, tablename="wallet", schema=None):
    id = Serial(primary_key=True)


class LedgerEntry(Table, tablename="ledger_entry", schema=None):
    id = Serial(primary_key=True)


class SepaMandate(Table, tablename="sepa_mandate", schema=None):
    id = Serial(primary_key=True)


class SepaDebitRun(Table, tablename="sepa_debit_run", schema=None):
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
        "SepaDebit",
        "sepa_debit",
        [
            ("id", Serial, _params(primary_key=True)),
            ("debit_run", ForeignKey, _fk(SepaDebitRun, index=True)),
            ("mandate", ForeignKey, _fk(SepaMandate, index=True)),
            ("family", ForeignKey, _fk(Family, index=True)),
            ("wallet", ForeignKey, _fk(Wallet)),
            ("amount_cents", Integer, _params(default=0)),
            ("end_to_end_id", Varchar, _params(length=35, default="", unique=True)),
            ("sequence", Varchar, _params(length=4, default="RCUR")),
            ("status", Varchar, _params(length=10, default="scheduled")),
            ("ledger_entry", ForeignKey, _fk(LedgerEntry, null=True)),
            ("reject_code", Varchar, _params(length=4, default="")),
            ("rejected_at", Timestamptz, _null_time()),
            ("reject_entry", ForeignKey, _fk(LedgerEntry, null=True)),
            ("created_at", Timestamptz, _now()),
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
