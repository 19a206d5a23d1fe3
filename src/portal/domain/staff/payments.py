"""Counter payments recorded by staff: a cheque, cash or a transfer credits a family wallet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from portal.db import write_transaction
from portal.domain.form_fields import FormError
from portal.domain.money import service as money
from portal.domain.money.manual import (
    MANUAL_MODES,
    ManualPayment,
    ManualPaymentError,
    record_manual_payment,
)
from portal.domain.staff import audit
from portal.domain.staff.families import family_in
from portal.domain.staff.service import Actor, NotFound
from portal.tables import LedgerEntry


@dataclass(frozen=True)
class WalletChoice:
    wallet_id: int
    name: str
    balance_cents: int


async def family_wallets(structure_id: int, family_id: int) -> list[WalletChoice]:
    """The family's wallets with their balance (created when missing)."""
    await family_in(structure_id, family_id)
    return [
        WalletChoice(w.wallet_id, w.name, w.balance_cents)
        for w in await money.wallet_balances(family_id)
    ]


async def record_payment(
    actor: Actor, structure_id: int, family_id: int, values: ManualPayment, form_key: str
) -> bool:
    """Credit the wallet once per form (``form_key``); False when it was already recorded."""
    wallets = {w.wallet_id for w in await family_wallets(structure_id, family_id)}
    if values.wallet_id not in wallets:
        raise NotFound(f"porte-monnaie {values.wallet_id}")
    async with write_transaction():
        try:
            entry_id = await record_manual_payment(
                values, dedupe_key=f"manual:{structure_id}:{form_key}"
            )
        except ManualPaymentError as exc:
            raise FormError([str(exc)]) from None
        if entry_id is None:
            return False
        await audit.record(
            actor,
            "payment.record",
            structure_id=structure_id,
            table="ledger_entry",
            target_id=entry_id,
            after={
                "family": family_id,
                "wallet": values.wallet_id,
                "mode": values.mode,
                "amount_cents": values.amount_cents,
                "piece_number": values.piece_number,
                "payer_name": values.payer_name,
                "bank_name": values.bank_name,
                "entry_date": values.entry_date,
            },
        )
    return True


@dataclass(frozen=True)
class RecordedPayment:
    entry_date: date
    family: str
    mode: str
    piece_number: str
    payer_name: str
    bank_name: str
    amount_cents: int


async def recent_payments(structure_id: int, limit: int = 30) -> list[RecordedPayment]:
    """The last counter payments of the structure (cheque, cash, transfer)."""
    rows: list[dict[str, Any]] = await (
        LedgerEntry.select(
            LedgerEntry.entry_date,
            LedgerEntry.family._.name,
            LedgerEntry.payment_mode,
            LedgerEntry.piece_number,
            LedgerEntry.payer_name,
            LedgerEntry.bank_name,
            LedgerEntry.amount_cents,
        )
        .where(
            (LedgerEntry.family._.structure == structure_id)
            & LedgerEntry.payment_mode.is_in(list(MANUAL_MODES))
        )
        .order_by(LedgerEntry.id, ascending=False)
        .limit(limit)
        .output(nested=False)
    )
    return [
        RecordedPayment(
            r["entry_date"],
            str(r["family.name"]),
            MANUAL_MODES.get(str(r["payment_mode"]), str(r["payment_mode"])),
            str(r["piece_number"] or ""),
            str(r["payer_name"] or ""),
            str(r["bank_name"] or ""),
            int(r["amount_cents"]),
        )
        for r in rows
    ]
