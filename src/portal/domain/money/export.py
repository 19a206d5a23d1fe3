"""Exports of the histories in the CSV dialect that French Excel opens as is:
UTF-8 with a byte order mark, ";" between fields, decimal comma, CRLF line ends."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from portal.domain.money.rules import amount_for_csv
from portal.domain.money.service import ConsumptionLine, PaymentLine

BOM = "\ufeff"


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(_no_formula(row) for row in rows)
    return BOM + buffer.getvalue()


def _no_formula(row: Sequence[str]) -> list[str]:
    # A cell starting with = + - @ is a formula for a spreadsheet ("CSV injection"); names
    # typed by people are neutralised, amounts (a minus sign and digits) are left alone.
    out = []
    for cell in row:
        is_number = cell.lstrip("-").replace(",", "").isdigit()
        out.append("'" + cell if cell[:1] in ("=", "+", "-", "@") and not is_number else cell)
    return out


def consumptions_csv(lines: Sequence[ConsumptionLine], total_cents: int) -> str:
    rows = [
        [
            f"{line.day:%d/%m/%Y}",
            line.last_name,
            line.first_name,
            line.activity,
            "" if line.unit_price_cents is None else amount_for_csv(line.unit_price_cents),
            "" if line.quantity is None else str(line.quantity),
            amount_for_csv(line.total_cents),
        ]
        for line in lines
    ]
    rows.append(["TOTAL", "", "", "", "", "", amount_for_csv(total_cents)])
    return _csv(["Date", "Nom", "Prénom", "Activité", "Prix (€)", "Qté", "Total (€)"], rows)


def payments_csv(lines: Sequence[PaymentLine], total_cents: int) -> str:
    rows = [
        [
            f"{line.day:%d/%m/%Y}",
            line.mode,
            line.piece_number,
            line.payer_name,
            line.bank_name,
            amount_for_csv(line.amount_cents),
        ]
        for line in lines
    ]
    rows.append(["TOTAL", "", "", "", "", amount_for_csv(total_cents)])
    return _csv(
        ["Date règlement", "Mode règlement", "N° pièce", "Nom payeur", "Nom banque", "Montant (€)"],
        rows,
    )
