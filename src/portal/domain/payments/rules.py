"""Online payment rules on plain values: statuses, references, amount limits, bank data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import eopayment

CREATED, PAID, REFUSED, ABANDONED, ERROR = "created", "paid", "refused", "abandoned", "error"
WAITING = "waiting"  # an answer that changes nothing yet (never stored)
# The ledger label of what a paid online payment credits to each wallet.
ONLINE_CREDIT_LABEL = "Paiement CB en ligne"
FINAL_STATUSES = frozenset({PAID, REFUSED, ABANDONED, ERROR})

STATUS_LABELS = {
    CREATED: "En attente de confirmation",
    PAID: "Payé",
    REFUSED: "Refusé",
    ABANDONED: "Abandonné",
    ERROR: "En erreur",
}

SANDBOX = "sandbox"

# eopayment result codes -> our statuses. ACCEPTED means "authorised, not captured":
# nothing is credited until the bank says the money is captured (PAID).
_RESULTS = {
    eopayment.PAID: PAID,
    eopayment.DENIED: REFUSED,
    eopayment.CANCELLED: ABANDONED,
    eopayment.EXPIRED: ABANDONED,
    eopayment.ERROR: ERROR,
    eopayment.WAITING: WAITING,
    eopayment.RECEIVED: WAITING,
    eopayment.ACCEPTED: WAITING,
}


def status_from_result(result: int | None) -> str:
    return _RESULTS.get(result if result is not None else -1, WAITING)


def transition_allowed(current: str, new: str) -> bool:
    """A verified "paid" wins over anything but itself (the money was taken); the other
    outcomes only end a payment still waiting."""
    if new == PAID:
        return current != PAID
    if new in (REFUSED, ABANDONED, ERROR):
        return current == CREATED
    return False


def make_reference(payment_id: int, now: datetime) -> str:
    """Our order reference: alphanumeric, 6 to 30 characters (TIPI/PayFiP "REFDET")."""
    return f"PF{now:%Y%m%d%H%M%S}{payment_id:08d}"


@dataclass(frozen=True)
class Limits:
    minimum_cents: int | None
    maximum_cents: int | None


# TIPI's eopayment code refuses more than 9 999,99 € (clean_amount(max_amount=9999.99))
# although the backend announces 100 000 €; the smaller figure is the one that works.
KNOWN_LIMITS = {
    SANDBOX: Limits(100, 10_000_000),
    "payfip_ws": Limits(100, 10_000_000),
    "tipi": Limits(100, 999_999),
}


_CARD_KEYS = re.compile(r"card|carte|cvv|cvc|expir|(^|_)pan($|_)|(^|_)bin($|_)|cc_?num", re.I)


def scrub_bank_data(data: Mapping[str, Any]) -> dict[str, str]:
    """Bank data safe to keep: plain strings, without anything that looks like card data."""
    clean: dict[str, str] = {}
    for key, value in data.items():
        if _CARD_KEYS.search(str(key)):
            continue
        if isinstance(value, list | tuple):
            value = value[0] if len(value) == 1 else ",".join(map(str, value))
        clean[str(key)[:60]] = str(value)[:500]
    return clean


def cents_to_decimal_string(cents: int) -> str:
    """ "118.04": the amount format eopayment's request() expects."""
    return f"{cents // 100}.{cents % 100:02d}"
