"""The agent's form for a payment received at the counter, read into a ManualPayment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from portal.domain import numbers
from portal.domain.form_fields import FormError, field_text, parse_date
from portal.domain.money.manual import MANUAL_MODES, ManualPayment
from portal.domain.money.rules import AmountError, parse_amount_cents


def parse_payment_form(
    data: Mapping[str, object], wallet_ids: Iterable[int], today: date
) -> ManualPayment:
    errors: list[str] = []
    wallet_text = field_text(data, "porte_monnaie", 12)
    wallet_id = numbers.parse_count(wallet_text) or 0
    if wallet_id not in set(wallet_ids):
        errors.append("Choisissez le porte-monnaie crédité.")
    mode = field_text(data, "mode", 12).upper()
    if mode not in MANUAL_MODES:
        errors.append("Choisissez le mode de règlement : chèque, espèces ou virement.")
    cents = 0
    try:
        cents = parse_amount_cents(field_text(data, "montant", 30))
        if cents <= 0:
            errors.append("Le montant doit être supérieur à zéro.")
    except AmountError as exc:
        errors.append(f"Montant : {exc}")
    piece = field_text(data, "piece", 60)
    payer = field_text(data, "payeur", 200)
    bank = field_text(data, "banque", 200)
    if mode == "CHEQUE":
        if not piece:
            errors.append("Le numéro du chèque est obligatoire.")
        if not bank:
            errors.append("La banque du chèque est obligatoire.")
    if mode == "VIREMENT" and not piece:
        errors.append("La référence du virement est obligatoire.")
    if not payer:
        errors.append("Le nom du payeur est obligatoire.")
    entry_date = today
    if field_text(data, "date", 12):
        try:
            entry_date = parse_date(field_text(data, "date", 12), "La date du règlement")
            if entry_date > today:
                errors.append("La date du règlement ne peut pas être dans le futur.")
        except ValueError as exc:
            errors.append(str(exc))
    if errors:
        raise FormError(errors)
    return ManualPayment(
        wallet_id=wallet_id,
        mode=mode,
        amount_cents=cents,
        entry_date=entry_date,
        payer_name=payer,
        piece_number=piece,
        bank_name=bank,
    )
