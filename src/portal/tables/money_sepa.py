"""Tables of SEPA direct debit ("prélèvement automatique"): the structure as creditor, the
families' mandates, the monthly debit runs and their debits.

Unique keys make a replayed run harmless: one run per structure and month, one debit per
run and wallet, one live mandate per family (partial index in the migration).
"""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import Account, Family, LedgerEntry, Structure, Wallet


class SepaCreditor(Table):
    """A structure's creditor settings (one row per structure that offers direct debit)."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, unique=True)
    creditor_name = Varchar(length=70)
    # Identifiant créancier SEPA (ICS), e.g. FR12ZZZ123456.
    creditor_id = Varchar(length=35)
    iban = Varchar(length=34)
    bic = Varchar(length=11)
    # Day of the month the debits are collected (1-28).
    debit_day = Integer(default=10)
    # Pre-notification delay promised in new mandates (calendar days; SEPA default 14).
    notice_days = Integer(default=14)
    # What a run collects: "debt" (the wallet's debt) or "month" (last month's consumptions).
    basis = Varchar(length=10, default="debt")
    active = Boolean(default=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class SepaMandate(Table):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    # Référence unique du mandat (RUM), shown to the family and sent in every debit.
    reference = Varchar(length=35, unique=True)
    holder = Varchar(length=70)
    iban = Varchar(length=34)
    bic = Varchar(length=11)
    signed_on = Date()
    signed_at = Timestamptz(default=TimestamptzNow())
    # "online" (signed by a parent in the portal) or "paper" (recorded by staff).
    source = Varchar(length=10, default="online")
    account = ForeignKey(references=Account, null=True, on_delete=OnDelete.set_null)
    # Pre-notification delay this mandate promises (calendar days).
    notice_days = Integer(default=14)
    revoked_at = Timestamptz(null=True, default=None)
    revoked_by = Varchar(length=150, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class SepaDebitRun(Table):
    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    month = Varchar(length=7)  # "2026-12"
    collection_date = Date()
    basis = Varchar(length=10, default="debt")
    created_by = Varchar(length=150, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    posted_at = Timestamptz(null=True, default=None)


class SepaDebit(Table):
    id = Serial(primary_key=True)
    # Not "run": SQLite's index sepa_debit_run would collide with the table of that name.
    debit_run = ForeignKey(references=SepaDebitRun, index=True)
    mandate = ForeignKey(references=SepaMandate, index=True)
    family = ForeignKey(references=Family, index=True)
    wallet = ForeignKey(references=Wallet)
    amount_cents = Integer()
    end_to_end_id = Varchar(length=35, unique=True)
    sequence = Varchar(length=4, default="RCUR")  # FRST or RCUR
    # "scheduled" (notified, in the XML), "posted" (credited), "rejected" (R-transaction).
    status = Varchar(length=10, default="scheduled")
    ledger_entry = ForeignKey(references=LedgerEntry, null=True)
    reject_code = Varchar(length=4, default="")
    rejected_at = Timestamptz(null=True, default=None)
    reject_entry = ForeignKey(references=LedgerEntry, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


MONEY_SEPA_TABLES: list[type[Table]] = [SepaCreditor, SepaMandate, SepaDebitRun, SepaDebit]

__all__ = ["MONEY_SEPA_TABLES", "SepaCreditor", "SepaDebit", "SepaDebitRun", "SepaMandate"]
