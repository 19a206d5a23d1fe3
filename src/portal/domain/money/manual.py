"""Payments received at the counter: cheque, cash, bank transfer (a ledger credit).

Recorded by staff from the back office. The caller opens the transaction (so that its
audit entry commits with the credit); a replayed form (same dedupe key) records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.db import write_transaction
from portal.tables import LedgerEntry, Wallet

MANUAL_MODES = {"CHEQUE": "Chèque", "ESPECES": "Espèces", "VIREMENT": "Virement"}


class ManualPaymentError(ValueError):
    """The payment cannot be recorded as given (French message)."""


@dataclass(frozen=True)
class ManualPayment:
    wallet_id: int
    mode: str
    amount_cents: int
    entry_date: date
    payer_name: str
    piece_number: str = ""
    bank_name: str = ""


def manual_label(mode: str) -> str:
    return f"Règlement par {MANUAL_MODES[mode].lower()}" if mode in MANUAL_MODES else "Règlement"


async def record_manual_payment(payment: ManualPayment, dedupe_key: str) -> int | None:
    """Credit the wallet; returns the ledger entry id, or None when the key was used."""
    if payment.mode not in MANUAL_MODES:
        raise ManualPaymentError("Mode de règlement inconnu : chèque, espèces ou virement.")
    if payment.amount_cents <= 0:
        raise ManualPaymentError("Le montant d'un règlement doit être supérieur à zéro.")
    if not dedupe_key:
        raise ManualPaymentError("Clé d'unicité manquante.")
    async with write_transaction():
        wallet = await Wallet.select(Wallet.family).where(Wallet.id == payment.wallet_id).first()
        if wallet is None:
            raise ManualPaymentError("Porte-monnaie inconnu.")
        inserted = await (
            LedgerEntry.insert(
                LedgerEntry(
                    wallet=payment.wallet_id,
                    family=wallet["family"],
                    kind="credit",
                    amount_cents=payment.amount_cents,
                    entry_date=payment.entry_date,
                    label=manual_label(payment.mode),
                    payment_mode=payment.mode,
                    piece_number=payment.piece_number[:60] or None,
                    payer_name=payment.payer_name[:200] or None,
                    bank_name=payment.bank_name[:200] or None,
                    dedupe_key=dedupe_key[:120],
                )
            )
            .on_conflict(target=LedgerEntry.dedupe_key, action="DO NOTHING")
            .returning(LedgerEntry.id)
        )
    return int(inserted[0]["id"]) if inserted else None
