"""Exports of the histories, through the shared tabular writer (French Excel's CSV dialect,
formula injection neutralised)."""

from __future__ import annotations

from collections.abc import Sequence

from portal.domain.exports.tabular import Amount, Cell, Table, csv_text
from portal.domain.money.service import ConsumptionLine, PaymentLine

# The seed guides' column labels, shared by the screen and every export so they never differ.
CONSUMPTION_HEADER = ("Date", "Nom", "Prénom", "Activité", "Prix (€)", "Qté", "Total (€)")
PAYMENT_HEADER = (
    "Date Règl",
    "Mode règlement",
    "N° Pièce",
    "Nom payeur",
    "Nom Banque",
    "Montant (€)",
)


def consumptions_table(lines: Sequence[ConsumptionLine], total_cents: int) -> Table:
    rows: list[Sequence[Cell]] = [
        (
            line.day,
            line.last_name,
            line.first_name,
            line.activity,
            None if line.unit_price_cents is None else Amount(line.unit_price_cents),
            line.quantity,
            Amount(line.total_cents),
        )
        for line in lines
    ]
    rows.append(("TOTAL", None, None, None, None, None, Amount(total_cents)))
    return Table(CONSUMPTION_HEADER, rows)


def payments_table(lines: Sequence[PaymentLine], total_cents: int) -> Table:
    rows: list[Sequence[Cell]] = [
        (
            line.day,
            line.mode,
            line.piece_number,
            line.payer_name,
            line.bank_name,
            Amount(line.amount_cents),
        )
        for line in lines
    ]
    rows.append(("TOTAL", None, None, None, None, Amount(total_cents)))
    return Table(PAYMENT_HEADER, rows)


def consumptions_csv(lines: Sequence[ConsumptionLine], total_cents: int) -> str:
    return csv_text(consumptions_table(lines, total_cents))


def payments_csv(lines: Sequence[PaymentLine], total_cents: int) -> str:
    return csv_text(payments_table(lines, total_cents))
