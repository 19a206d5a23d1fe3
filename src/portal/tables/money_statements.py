"""Table of the monthly statements e-mailed on the 1st: whether the structure chose it, and
the last month whose statements were e-mailed (so that the minute sweep starts the mailing
once a month)."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import Structure


class StatementMailSettings(Table):
    """Off until staff turn it on; `last_month` ("2026-11") is the last month mailed."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, unique=True)
    enabled = Boolean(default=False)
    last_month = Varchar(length=7, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


MONEY_STATEMENT_TABLES: list[type[Table]] = [StatementMailSettings]

__all__ = ["MONEY_STATEMENT_TABLES", "StatementMailSettings"]
