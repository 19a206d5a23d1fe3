"""Rules of the régie's papers on plain values: monthly statements, tax certificates,
attendance certificates, receipt numbers. Amounts are integer cents.

A statement is the ledger of one wallet over one month: the opening balance (every entry
before the month), the month's entries grouped as consumptions (by child and activity),
payments and other operations, and the closing balance = opening + the month's entries.

The tax certificate follows article 200 quater B of the Code général des impôts: the
childcare ("garde") costs of children under 6 on 1 January of the tax year, per child;
meals are itemised apart and excluded from the deductible amount.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Category(StrEnum):
    """How an activity counts on the tax certificate."""

    GARDE = "garde"
    REPAS = "repas"
    AUTRE = "autre"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.GARDE: "Garde (périscolaire, accueil de loisirs)",
    Category.REPAS: "Repas (exclus de l'attestation)",
    Category.AUTRE: "Autre (non concerné)",
}

_MEAL_WORDS = ("restauration", "repas", "cantine", "dejeuner", "gouter")
_GARDE_WORDS = (
    "accueil",
    "alsh",
    "periscolaire",
    "garderie",
    "mercredi",
    "loisirs",
    "vacances",
    "etude",
    "creche",
    "halte",
)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def default_category(activity_name: str) -> Category:
    """The category an activity gets until staff set one: meals first (a "repas ALSH" is a
    meal), then childcare words, else other (music lessons, sport)."""
    name = _plain(activity_name)
    if any(word in name for word in _MEAL_WORDS):
        return Category.REPAS
    if any(word in name for word in _GARDE_WORDS):
        return Category.GARDE
    return Category.AUTRE


def parse_category(raw: str | None) -> Category | None:
    try:
        return Category(raw) if raw else None
    except ValueError:
        return None


# --- ledger lines --------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerLine:
    """One ledger entry of a wallet, as the papers read it (amount > 0 credit, < 0 debit)."""

    entry_id: int
    day: date
    amount_cents: int
    label: str
    payment_mode: str | None = None
    person_id: int | None = None
    person_name: str = ""
    activity_id: int | None = None
    activity_name: str = ""
    quantity: int | None = None
    piece_number: str = ""
    payer_name: str = ""
    bank_name: str = ""

    @property
    def is_payment(self) -> bool:
        return self.payment_mode is not None

    @property
    def is_consumption(self) -> bool:
        return self.payment_mode is None and self.activity_id is not None


# --- monthly statement ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConsumptionGroup:
    """The consumptions of one child for one activity in the month (net of reversals)."""

    person_name: str
    activity_name: str
    quantity: int
    charged_cents: int  # positive: what the family was charged


@dataclass(frozen=True)
class Statement:
    first_day: date
    last_day: date
    opening_cents: int
    consumptions: list[ConsumptionGroup]
    payments: list[LedgerLine]
    others: list[LedgerLine]

    @property
    def consumption_total_cents(self) -> int:
        return sum(g.charged_cents for g in self.consumptions)

    @property
    def payment_total_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments)

    @property
    def other_total_cents(self) -> int:
        return sum(o.amount_cents for o in self.others)

    @property
    def closing_cents(self) -> int:
        return (
            self.opening_cents
            - self.consumption_total_cents
            + self.payment_total_cents
            + self.other_total_cents
        )


def statement(lines: Iterable[LedgerLine], first_day: date, last_day: date) -> Statement:
    """The statement of one wallet from all of its ledger lines."""
    opening = 0
    groups: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    payments: list[LedgerLine] = []
    others: list[LedgerLine] = []
    for line in lines:
        if line.day < first_day:
            opening += line.amount_cents
        elif line.day <= last_day:
            if line.is_payment:
                payments.append(line)
            elif line.is_consumption:
                group = groups[(line.person_name, line.activity_name)]
                # A reversal (credit) gives a day back: it counts minus one.
                group[0] += (line.quantity or 1) * (1 if line.amount_cents < 0 else -1)
                group[1] -= line.amount_cents
            else:
                others.append(line)
    consumptions = [
        ConsumptionGroup(person, activity, quantity, charged)
        for (person, activity), (quantity, charged) in sorted(groups.items())
        if charged != 0 or quantity != 0
    ]
    payments.sort(key=lambda p: (p.day, p.entry_id))
    others.sort(key=lambda o: (o.day, o.entry_id))
    return Statement(first_day, last_day, opening, consumptions, payments, others)


# --- receipts ------------------------------------------------------------------------------


def receipt_number(entry_id: int, day: date) -> str:
    """ "2026-000123": the year of the payment and the ledger entry, unique and stable."""
    return f"{day.year}-{entry_id:06d}"


# --- tax certificate (art. 200 quater B CGI) -----------------------------------------------


def under_six_on_first_january(birth_date: date | None, year: int) -> bool:
    """True when the child is less than 6 years old on 1 January of ``year``.

    A child born on 1 January ``year - 6`` turns 6 that very day: not under 6 (the tax
    administration's wording: "nés après le 1er janvier"). A child born during ``year``
    counts too.
    """
    if birth_date is None:
        return False
    return birth_date > date(year - 6, 1, 1)


@dataclass(frozen=True)
class ChildCosts:
    person_id: int
    name: str
    birth_date: date | None
    garde_cents: int
    repas_cents: int
    garde_days: int

    @property
    def deductible_cents(self) -> int:
        return max(0, self.garde_cents)


@dataclass(frozen=True)
class TaxCertificate:
    year: int
    children: list[ChildCosts] = field(default_factory=list)

    @property
    def deductible_total_cents(self) -> int:
        return sum(c.deductible_cents for c in self.children)

    @property
    def repas_total_cents(self) -> int:
        return sum(c.repas_cents for c in self.children)

    @property
    def is_empty(self) -> bool:
        return not any(c.garde_cents or c.repas_cents for c in self.children)


@dataclass(frozen=True)
class Child:
    person_id: int
    name: str
    birth_date: date | None


def tax_certificate(
    year: int,
    children: Sequence[Child],
    lines: Iterable[LedgerLine],
    categories: dict[int, Category],
) -> TaxCertificate:
    """Garde and meal costs of the year per eligible child, from the consumption lines.

    ``lines`` are the family's consumption entries (debits and their reversals) of all
    wallets; ``categories`` gives each activity's category (missing: not counted).
    """
    eligible = {c.person_id: c for c in children if under_six_on_first_january(c.birth_date, year)}
    garde: dict[int, int] = defaultdict(int)
    repas: dict[int, int] = defaultdict(int)
    days: dict[int, int] = defaultdict(int)
    for line in lines:
        if not line.is_consumption or line.person_id not in eligible or line.day.year != year:
            continue
        category = categories.get(line.activity_id or 0, Category.AUTRE)
        charged = -line.amount_cents
        if category is Category.GARDE:
            garde[line.person_id] += charged
            days[line.person_id] += 1 if charged > 0 else -1
        elif category is Category.REPAS:
            repas[line.person_id] += charged
    return TaxCertificate(
        year,
        [
            ChildCosts(
                c.person_id,
                c.name,
                c.birth_date,
                garde[c.person_id],
                repas[c.person_id],
                days[c.person_id],
            )
            for c in sorted(eligible.values(), key=lambda c: (c.name, c.person_id))
        ],
    )


def tax_year_available(today: date) -> int:
    """The certificate offered to parents: the past year (available from 1 January)."""
    return today.year - 1


# --- attendance certificate ----------------------------------------------------------------


@dataclass(frozen=True)
class AttendedActivity:
    activity_name: str
    days: list[date]
    charged_cents: int


@dataclass(frozen=True)
class AttendanceCertificate:
    person_name: str
    birth_date: date | None
    first_day: date
    last_day: date
    activities: list[AttendedActivity]

    @property
    def day_count(self) -> int:
        return len({d for a in self.activities for d in a.days})

    @property
    def presence_count(self) -> int:
        return sum(len(a.days) for a in self.activities)

    @property
    def charged_total_cents(self) -> int:
        return sum(a.charged_cents for a in self.activities)


@dataclass(frozen=True)
class Attendance:
    """A reservation the child came to (accepted, not absent, day ended)."""

    reservation_id: int
    day: date
    activity_name: str


def attendance_certificate(
    person_name: str,
    birth_date: date | None,
    first_day: date,
    last_day: date,
    attended: Iterable[Attendance],
    charges: dict[int, int],
) -> AttendanceCertificate:
    """Days attended per activity over the period, with what the ledger charged for them
    (``charges``: net charged cents per reservation id)."""
    days: dict[str, set[date]] = defaultdict(set)
    charged: dict[str, int] = defaultdict(int)
    for item in attended:
        if first_day <= item.day <= last_day:
            days[item.activity_name].add(item.day)
            charged[item.activity_name] += charges.get(item.reservation_id, 0)
    return AttendanceCertificate(
        person_name,
        birth_date,
        first_day,
        last_day,
        [AttendedActivity(name, sorted(days[name]), charged[name]) for name in sorted(days)],
    )


MAX_PERIOD_DAYS = 366 * 2


class PeriodError(ValueError):
    """A period that cannot be certified (French message)."""


def check_period(first_day: date, last_day: date, today: date) -> None:
    if last_day < first_day:
        raise PeriodError("La date de fin précède la date de début.")
    if (last_day - first_day).days > MAX_PERIOD_DAYS:
        raise PeriodError("La période ne peut dépasser deux ans.")
    if first_day > today:
        raise PeriodError("La période commence dans le futur : aucune présence à attester.")


_SLUG = re.compile(r"[^a-z0-9]+")


def file_slug(text: str) -> str:
    """ "DUPONT Jean-Paul" -> "dupont-jean-paul" (file names)."""
    return _SLUG.sub("-", _plain(text)).strip("-") or "document"
