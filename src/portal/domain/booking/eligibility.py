"""Who may book: enrolment, rules document, family file, debt thresholds.

Balances are in cents, negative = debt. A threshold is a positive amount of debt in
cents (5000 = 50,00 €); booking is blocked when the debt EXCEEDS it ("débiteur de plus de
50 €"): a debt of exactly the threshold still allows booking. The amount to pay is
therefore ``debt - threshold``, the least payment that unblocks.

The global threshold applies to the sum of all the family's wallet balances (a credit on
one wallet offsets a debt on another); a wallet threshold applies to that wallet's balance,
for that wallet's activities only. A payment into the activity's wallet lowers both debts,
so ``amount_to_unblock`` (the largest amount among the reasons) settles every debt reason
when paid into that wallet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from portal.domain.money_format import format_euros

FILE_LINK = "/dossier"


class BlockCode(StrEnum):
    FILE_INCOMPLETE = "file_incomplete"
    RULES_NOT_ACKNOWLEDGED = "rules_not_acknowledged"
    NOT_ENROLLED = "not_enrolled"
    GLOBAL_DEBT = "global_debt"
    WALLET_DEBT = "wallet_debt"


@dataclass(frozen=True)
class BlockReason:
    code: BlockCode
    message: str  # French, for the parent
    amount_to_pay_cents: int = 0  # least payment that lifts this reason; 0 when not money
    wallet_id: int | None = None  # the wallet concerned by a WALLET_DEBT reason
    link: str | None = None  # where the parent fixes it ("Mon dossier")


@dataclass(frozen=True)
class WalletStanding:
    wallet_id: int
    name: str  # wallet type name: "Services Scolaires et ALSH"
    balance_cents: int
    block_threshold_cents: int | None = None  # None: no per-wallet threshold


@dataclass(frozen=True)
class FamilyStanding:
    file_complete: bool
    wallets: tuple[WalletStanding, ...]
    global_threshold_cents: int | None = None  # None: no global threshold
    # What the structure's file rules find missing (French), when the file is derived.
    file_missing: tuple[str, ...] = ()
    # The same as staff without health access read it (« PAI (Paolo) » tells a condition).
    file_missing_sealed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        thresholds = [w.block_threshold_cents for w in self.wallets]
        for threshold in [self.global_threshold_cents, *thresholds]:
            if threshold is not None and threshold < 0:
                raise ValueError("debt thresholds are positive amounts of debt in cents")

    def wallet(self, wallet_id: int) -> WalletStanding | None:
        return next((w for w in self.wallets if w.wallet_id == wallet_id), None)


@dataclass(frozen=True)
class BookingCandidate:
    """One person and one activity the family wants to book."""

    person_first_name: str
    activity_name: str
    wallet_id: int  # the activity's wallet type, as a family wallet id
    enrolled: bool
    rules_acknowledged: bool  # the rules document in force is signed for this person


def family_block_reasons(standing: FamilyStanding) -> list[BlockReason]:
    """Reasons that block every booking of the family (file, global debt)."""
    reasons: list[BlockReason] = []
    if not standing.file_complete:
        if standing.file_missing:
            message = (
                "Votre dossier famille est incomplet : les réservations sont bloquées. "
                f"Il manque : {' ; '.join(standing.file_missing)}."
            )
        else:
            message = (
                "Votre dossier famille est incomplet : les réservations sont bloquées. "
                "Merci de contacter nos services."
            )
        reasons.append(BlockReason(BlockCode.FILE_INCOMPLETE, message, link=FILE_LINK))
    debt = -sum(w.balance_cents for w in standing.wallets)
    threshold = standing.global_threshold_cents
    if threshold is not None and debt > threshold:
        reasons.append(
            BlockReason(
                BlockCode.GLOBAL_DEBT,
                f"Votre compte est débiteur de {format_euros(debt)} : au-delà de "
                f"{format_euros(threshold)}, les réservations sont bloquées.",
                amount_to_pay_cents=debt - threshold,
            )
        )
    return reasons


def wallet_block_reason(wallet: WalletStanding) -> BlockReason | None:
    """The reason that blocks the wallet's activities, if its debt exceeds its threshold."""
    debt, threshold = -wallet.balance_cents, wallet.block_threshold_cents
    if threshold is None or debt <= threshold:
        return None
    return BlockReason(
        BlockCode.WALLET_DEBT,
        f"Votre compte est débiteur de {format_euros(debt)} sur le porte-monnaie "
        f"« {wallet.name} » : au-delà de {format_euros(threshold)}, les réservations sont "
        "bloquées.",
        amount_to_pay_cents=debt - threshold,
        wallet_id=wallet.wallet_id,
    )


def booking_block_reasons(
    standing: FamilyStanding, candidate: BookingCandidate
) -> list[BlockReason]:
    """Every reason why ``candidate`` may not be booked; empty means booking is allowed.

    Order: family file, rules document, enrolment, global debt, wallet debt.
    """
    family = family_block_reasons(standing)
    reasons = [r for r in family if r.code is BlockCode.FILE_INCOMPLETE]
    name = candidate.person_first_name
    if not candidate.rules_acknowledged:
        reasons.append(
            BlockReason(
                BlockCode.RULES_NOT_ACKNOWLEDGED,
                f"Le règlement intérieur en vigueur n'a pas encore été signé pour {name} : "
                "merci d'en prendre connaissance et de le signer avant de réserver.",
            )
        )
    if not candidate.enrolled:
        reasons.append(
            BlockReason(
                BlockCode.NOT_ENROLLED,
                f"L'activité « {candidate.activity_name} » n'est pas accessible à {name}.",
            )
        )
    reasons.extend(r for r in family if r.code is BlockCode.GLOBAL_DEBT)
    wallet = standing.wallet(candidate.wallet_id)
    if wallet is not None and (reason := wallet_block_reason(wallet)) is not None:
        reasons.append(reason)
    return reasons


def blocked_wallet_reasons(standing: FamilyStanding) -> list[BlockReason]:
    """Per-wallet debt reasons of every wallet, for the booking page's banner."""
    return [r for w in standing.wallets if (r := wallet_block_reason(w)) is not None]


def amount_to_unblock(reasons: Iterable[BlockReason]) -> int:
    """Least payment into the activity's wallet that lifts every debt reason (0 if none)."""
    return max((r.amount_to_pay_cents for r in reasons), default=0)
