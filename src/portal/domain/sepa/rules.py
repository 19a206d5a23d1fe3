"""SEPA direct debit rules on plain values: bank details, creditor identifier, mandate
references, the pre-notification delay, the amounts a run collects, R-transaction codes.

IBAN and BIC are checked by schwifty (checksums, country formats, SEPA zone) rather than by
hand. Amounts are integer cents.

Pre-notification: the SEPA Core rulebook asks the creditor to tell the debtor the amount
and date of each debit at least 14 calendar days before it, unless the mandate agrees on
another delay. Each mandate records the delay it promises (copied from the structure's
settings when it is signed, 14 days by default); a run leaves out the mandates that can no
longer be notified in time for its collection date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

DEFAULT_NOTICE_DAYS = 14
MIN_NOTICE_DAYS = 1
MAX_NOTICE_DAYS = 60


class SepaError(ValueError):
    """Bank details or a debit run that cannot be accepted (French message)."""


class Basis(StrEnum):
    """What a monthly run collects per wallet."""

    DEBT = "debt"  # the wallet's debt on the day the run is prepared
    MONTH = "month"  # the previous month's consumptions (net of reversals)

    @property
    def label(self) -> str:
        return {
            Basis.DEBT: "Le montant dû (solde débiteur) de chaque porte-monnaie",
            Basis.MONTH: "Les consommations du mois précédent",
        }[self]


class DebitStatus(StrEnum):
    SCHEDULED = "scheduled"
    POSTED = "posted"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {
            DebitStatus.SCHEDULED: "Prévu",
            DebitStatus.POSTED: "Crédité",
            DebitStatus.REJECTED: "Rejeté",
        }[self]


# The R-transaction reasons a bank returns most often (ISO 20022 codes).
REJECT_REASONS = {
    "AC01": "Coordonnées bancaires incorrectes",
    "AC04": "Compte clôturé",
    "AC06": "Compte bloqué",
    "AG01": "Compte n'acceptant pas le prélèvement",
    "AM04": "Provision insuffisante",
    "MD01": "Absence de mandat",
    "MD06": "Remboursement demandé par le débiteur",
    "MS02": "Refus du débiteur",
    "MS03": "Raison non communiquée par la banque",
    "SL01": "Service spécifique de la banque du débiteur",
}


@dataclass(frozen=True)
class BankAccount:
    iban: str  # compact: FR7630006000011234567890189
    bic: str

    @property
    def masked_iban(self) -> str:
        """ "FR76 **** **** **** **** ***0 189": enough to recognise one's account."""
        return mask_iban(self.iban)


def mask_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    hidden = compact[:4] + "*" * max(0, len(compact) - 8) + compact[-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


def format_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def check_account(raw_iban: str, raw_bic: str = "") -> BankAccount:
    """A SEPA account from what was typed; the BIC may be left out when the IBAN gives it."""
    text = (raw_iban or "").strip()
    if not text:
        raise SepaError("Indiquez l'IBAN du compte à débiter.")
    if len(text) > 50:
        raise SepaError("Cet IBAN est trop long.")
    try:
        iban = IBAN(text)
    except SchwiftyException:
        raise SepaError(
            f"« {text} » n'est pas un IBAN valide : vérifiez les caractères et la clé."
        ) from None
    if not iban.in_sepa_zone:
        raise SepaError("Ce compte n'est pas dans la zone SEPA : le prélèvement est impossible.")
    bic_text = (raw_bic or "").strip().replace(" ", "").upper()
    if bic_text:
        try:
            bic = BIC(bic_text)
        except SchwiftyException:
            raise SepaError(
                f"« {bic_text} » n'est pas un BIC valide (8 ou 11 caractères)."
            ) from None
        bic_code = str(bic.compact)
    else:
        try:
            derived = iban.bic
        except SchwiftyException:
            derived = None
        if derived is None:
            raise SepaError("Indiquez le BIC de la banque (il figure sur votre RIB).")
        bic_code = str(derived.compact)
    return BankAccount(str(iban.compact), bic_code)


_CREDITOR_ID = re.compile(r"^([A-Z]{2})([0-9]{2})([A-Z0-9]{3})([A-Z0-9]{1,28})$")


def _mod97(text: str) -> int:
    digits = "".join(str(int(c, 36)) for c in text)
    return int(digits) % 97


def check_creditor_id(raw: str) -> str:
    """The SEPA creditor identifier (ICS), checked with its ISO 7064 key."""
    text = (raw or "").strip().replace(" ", "").upper()
    match = _CREDITOR_ID.match(text)
    if match is None:
        raise SepaError(
            f"« {raw} » n'est pas un identifiant créancier SEPA (ICS) : par exemple FR12ZZZ123456."
        )
    country, key, _business, national = match.groups()
    if _mod97(national + country + key) != 1:
        raise SepaError(f"« {raw} » : la clé de l'identifiant créancier SEPA est fausse.")
    return text


def mandate_reference(structure_id: int, family_id: int, sequence: int) -> str:
    """ "PF3-000012-01": unique per structure, family and mandate number (35 chars max,
    SEPA characters only)."""
    return f"PF{structure_id}-{family_id:06d}-{sequence:02d}"


def end_to_end_id(reference: str, month: str, wallet_id: int) -> str:
    return f"{reference}-{month.replace('-', '')}-{wallet_id}"[:35]


def check_holder(raw: str) -> str:
    holder = " ".join((raw or "").split())
    if len(holder) < 2:
        raise SepaError("Indiquez le nom du titulaire du compte.")
    if len(holder) > 70:
        raise SepaError("Le nom du titulaire ne peut dépasser 70 caractères.")
    return holder


def collection_date(month_first_day: date, debit_day: int) -> date:
    return month_first_day.replace(day=max(1, min(28, debit_day)))


def latest_notice_day(collection: date, notice_days: int) -> date:
    """The last day on which the pre-notification may leave for ``collection``."""
    return collection - timedelta(days=notice_days)


def can_notify(today: date, collection: date, notice_days: int) -> bool:
    return today <= latest_notice_day(collection, notice_days)


def earliest_collection(today: date, notice_days: int) -> date:
    return today + timedelta(days=notice_days)


@dataclass(frozen=True)
class WalletDue:
    wallet_id: int
    wallet_name: str
    amount_cents: int


def amount_due(basis: Basis, balance_cents: int, last_month_consumption_cents: int) -> int:
    """What a run collects from one wallet (0: nothing)."""
    if basis is Basis.DEBT:
        return max(0, -balance_cents)
    return max(0, last_month_consumption_cents)


def sequence_type(already_collected: bool) -> str:
    """ "FRST" for the first debit of a mandate, "RCUR" afterwards."""
    return "RCUR" if already_collected else "FRST"


def total(dues: Iterable[WalletDue]) -> int:
    return sum(d.amount_cents for d in dues)
