"""Money rules on plain values: balances, consumption debits, estimates, amounts typed by
parents, months of the histories.

Amounts are integer cents. A ledger entry is a credit (> 0) or a debit (< 0); a balance is
the sum of a wallet's entries and is never stored. A correction is a new entry.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from portal.domain.french_dates import month_label
from portal.domain.money_format import format_euros
from portal.domain.reservation_status import WAITING_STATUSES, ReservationStatus

CREDIT, DEBIT = "credit", "debit"


# Larger than any sensible family payment; keeps parsing away from giant integers.
MAX_TYPED_CENTS = 100_000_000
# A tariff band's code (quotient familial): A, B, QF1...
TARIFF_BAND = re.compile(r"^[A-Za-z0-9-]{1,20}$")


class AmountError(ValueError):
    """An amount typed by a parent cannot be read (French message)."""


# --- ledger -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One ledger line as the rules see it."""

    wallet_id: int
    amount_cents: int
    dedupe_key: str | None = None

    @property
    def kind(self) -> str:
        return CREDIT if self.amount_cents > 0 else DEBIT


def entry_kind(amount_cents: int) -> str:
    """'credit' or 'debit'; a zero amount is not an entry."""
    if amount_cents == 0:
        raise ValueError("a ledger entry never has a zero amount")
    return CREDIT if amount_cents > 0 else DEBIT


def balances(entries: Iterable[Entry], wallet_ids: Iterable[int] = ()) -> dict[int, int]:
    """Balance per wallet: the sum of its entries (wallets without entries are at 0)."""
    result: dict[int, int] = {wallet_id: 0 for wallet_id in wallet_ids}
    for entry in entries:
        result[entry.wallet_id] = result.get(entry.wallet_id, 0) + entry.amount_cents
    return result


def append_entries(
    ledger: Sequence[Entry], new: Iterable[Entry]
) -> tuple[list[Entry], list[Entry]]:
    """Append ``new`` to ``ledger`` the way the database does: an entry whose dedupe key is
    already present is dropped. Returns (the new ledger, the entries actually added)."""
    keys = {e.dedupe_key for e in ledger if e.dedupe_key is not None}
    added: list[Entry] = []
    for entry in new:
        entry_kind(entry.amount_cents)
        if entry.dedupe_key is not None:
            if entry.dedupe_key in keys:
                continue
            keys.add(entry.dedupe_key)
        added.append(entry)
    return [*ledger, *added], added


def consumption_key(reservation_id: int) -> str:
    return f"consumption:{reservation_id}"


def reversal_key(reservation_id: int) -> str:
    return f"consumption-reversal:{reservation_id}"


def online_payment_key(payment_id: int, wallet_id: int) -> str:
    return f"online:{payment_id}:{wallet_id}"


# --- tariffs and consumptions --------------------------------------------------------------


def price_in_force(tariffs: Iterable[tuple[date, int]], day: date) -> int | None:
    """The unit price in force on ``day``: the tariff with the latest ``valid_from <= day``."""
    best: tuple[date, int] | None = None
    for valid_from, price in tariffs:
        if valid_from <= day and (best is None or valid_from > best[0]):
            best = (valid_from, price)
    return None if best is None else best[1]


@dataclass(frozen=True)
class Billable:
    """A reservation as the posting and the estimate see it."""

    reservation_id: int
    wallet_id: int
    day: date
    status: ReservationStatus
    quantity: int
    absence_justified: bool
    unit_price_cents: int | None  # None: no tariff in force that day

    def __post_init__(self) -> None:
        # Accept the plain strings read back from the database.
        object.__setattr__(self, "status", ReservationStatus(self.status))


@dataclass(frozen=True)
class Debit:
    reservation_id: int
    wallet_id: int
    day: date
    unit_price_cents: int
    quantity: int

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


def is_billable(item: Billable) -> bool:
    return (
        item.status is ReservationStatus.ACCEPTED
        and not item.absence_justified
        and item.unit_price_cents is not None
        and item.unit_price_cents > 0
        and item.quantity > 0
    )


def consumption_debits(items: Iterable[Billable], until: date) -> list[Debit]:
    """Debits for the accepted, billable reservations of days up to ``until`` included."""
    return [
        Debit(i.reservation_id, i.wallet_id, i.day, i.unit_price_cents or 0, i.quantity)
        for i in items
        if i.day <= until and is_billable(i)
    ]


def counted_statuses(confirmed: bool, waiting: bool) -> frozenset[ReservationStatus]:
    """Reservation statuses that the estimate counts ("Confirmées", "En attente")."""
    statuses: set[ReservationStatus] = set()
    if confirmed:
        statuses.add(ReservationStatus.ACCEPTED)
    if waiting:
        statuses.update(WAITING_STATUSES)
    return frozenset(statuses)


def estimated_costs(
    items: Iterable[Billable], until: date, statuses: frozenset[ReservationStatus]
) -> dict[int, int]:
    """Cost per wallet of the reservations not yet debited, days up to ``until`` included.

    ``items`` are reservations without any ledger entry; justified absences cost nothing.
    """
    costs: dict[int, int] = defaultdict(int)
    for item in items:
        if item.day > until or item.status not in statuses or item.absence_justified:
            continue
        if item.unit_price_cents is None or item.quantity <= 0:
            continue
        costs[item.wallet_id] += item.unit_price_cents * item.quantity
    return dict(costs)


def settling_amount(balance_cents: int, estimated_cents: int) -> int:
    """What to pay so that the estimated balance is back at zero (0 when in credit)."""
    return max(0, estimated_cents - balance_cents)


@dataclass(frozen=True)
class Totals:
    balance_cents: int
    estimated_cents: int

    @property
    def estimated_balance_cents(self) -> int:
        return self.balance_cents - self.estimated_cents

    @property
    def balance_label(self) -> str:
        """ "Votre crédit" or "Montant dû", as the legacy screens say."""
        return "Votre crédit" if self.balance_cents >= 0 else "Montant dû"


# --- amounts typed by parents --------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_AMOUNT = re.compile(r"^([0-9]{1,9})(?:[.,]([0-9]{1,2}))?$")


def parse_amount_cents(raw: str, *, blank: int | None = None) -> int:
    """Read "118,04", "118.04", "118", "1 234,50 €" as cents.

    An empty field gives ``blank`` when it is set, else an error. Negative amounts,
    more than two decimals and anything else are refused with a French message.
    """
    text = _SPACES.sub("", raw or "")
    text = text.removesuffix("€").removesuffix("EUR").removesuffix("eur")
    if not text:
        if blank is not None:
            return blank
        raise AmountError("Indiquez un montant.")
    if len(text) > 20:
        raise AmountError("Ce montant est trop long.")
    if text.startswith("-"):
        raise AmountError(f"« {raw.strip()} » : un montant ne peut pas être négatif.")
    match = _AMOUNT.match(text)
    if match is None:
        raise AmountError(
            f"« {raw.strip()} » n'est pas un montant valide : écrivez par exemple 118,04."
        )
    euros, decimals = match.group(1), match.group(2) or "0"
    cents = int(euros) * 100 + int(decimals.ljust(2, "0"))
    if cents > MAX_TYPED_CENTS:
        raise AmountError(f"« {raw.strip()} » dépasse le montant maximal autorisé.")
    return cents


def amount_for_input(cents: int) -> str:
    """A value for an amount input, read back by ``parse_amount_cents``: "118,04"."""
    return f"{cents // 100},{cents % 100:02d}"


def limits_message(minimum_cents: int | None, maximum_cents: int | None) -> str:
    if minimum_cents is not None and maximum_cents is not None:
        return (
            f"Le montant total d'un paiement en ligne doit être compris entre "
            f"{format_euros(minimum_cents)} et {format_euros(maximum_cents)}."
        )
    if minimum_cents is not None:
        return (
            "Le montant total d'un paiement en ligne doit être d'au moins "
            f"{format_euros(minimum_cents)}."
        )
    return (
        "Le montant total d'un paiement en ligne ne peut dépasser "
        f"{format_euros(maximum_cents or 0)}."
    )


def within_limits(total_cents: int, minimum_cents: int | None, maximum_cents: int | None) -> bool:
    if total_cents <= 0:
        return False
    if minimum_cents is not None and total_cents < minimum_cents:
        return False
    return maximum_cents is None or total_cents <= maximum_cents


# --- months and days ---------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, raw: str) -> Month:
        """ "2026-10" -> Month(2026, 10); ValueError (French) otherwise."""
        match = re.fullmatch(r"(\d{4})-(\d{2})", raw.strip())
        if match is None:
            raise ValueError(f"« {raw} » n'est pas un mois valide (attendu : AAAA-MM).")
        year, month = int(match.group(1)), int(match.group(2))
        if not (1 <= month <= 12 and 1900 <= year <= 2999):
            raise ValueError(f"« {raw} » n'est pas un mois valide (attendu : AAAA-MM).")
        return cls(year, month)

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.shift(1).first_day - timedelta(days=1)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """ "Octobre 2026"."""
        return month_label(self.year, self.month)


def default_estimate_until(today: date) -> date:
    """ "Calculer vos réservations jusqu'au": by default the end of next month."""
    return Month.of(today).shift(1).last_day


WEEKDAYS_SHORT_FR = ("Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim")


def short_day(day: date) -> str:
    """ "Mer 01/10" for the history tables."""
    return f"{WEEKDAYS_SHORT_FR[day.weekday()]} {day:%d/%m}"
