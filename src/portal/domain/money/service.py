"""Money use cases: wallets and balances, consumption posting, estimates, histories.

Every family-facing function takes the family id of the logged-in parent and filters on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from piccolo.query.functions.aggregate import Sum

from portal import clock
from portal.db import write_transaction
from portal.domain import errors
from portal.domain.booking.eligibility import (
    BlockCode,
    BlockReason,
    FamilyStanding,
    WalletStanding,
    blocked_wallet_reasons,
    family_block_reasons,
)
from portal.domain.money import rules
from portal.domain.money.pricing import TariffBook, load_tariffs
from portal.domain.money.rules import Billable, Month, Totals
from portal.domain.reservation_status import ReservationStatus
from portal.tables import (
    Activity,
    Family,
    LedgerEntry,
    Person,
    Reservation,
    Structure,
    Wallet,
    WalletType,
)

log = logging.getLogger(__name__)

_CHUNK = 300

PAYMENT_MODES = {
    "CB": "Carte bancaire, en ligne",
    "CHEQUE": "Chèque",
    "ESPECES": "Espèces",
    "PRELEVEMENT": "Prélèvement",
    "VIREMENT": "Virement",
}


# The one label of an online card payment in the "Nom Banque" column, whatever the backend
# or an older version wrote there.
ONLINE_PAYMENT_LABEL = "Paiement en ligne"


class NotFound(errors.NotFound):
    """The row does not exist or does not belong to the family."""


# --- wallets and balances ------------------------------------------------------------------


@dataclass(frozen=True)
class WalletBalance:
    wallet_id: int
    wallet_type_id: int
    name: str
    balance_cents: int
    block_threshold_cents: int | None


@dataclass(frozen=True)
class FamilyRow:
    """A family with what the money and payment services need of it and its structure."""

    id: int
    name: str
    file_complete: bool
    structure_id: int
    structure_name: str
    timezone: str
    debt_block_cents: int | None
    payment_backend: str
    payment_options: object


async def family_row(family_id: int) -> FamilyRow:
    """The family and its structure; NotFound when there is no such family."""
    row = (
        await Family.select(
            Family.id,
            Family.name,
            Family.file_complete,
            Family.structure.id,
            Family.structure.name,
            Family.structure.timezone,
            Family.structure.debt_block_cents,
            Family.structure.payment_backend,
            Family.structure.payment_options,
        )
        .where(Family.id == family_id)
        .output(nested=False)
        .first()
    )
    if row is None:
        raise NotFound(family_id)
    return FamilyRow(
        id=int(row["id"]),
        name=str(row["name"]),
        file_complete=bool(row["file_complete"]),
        structure_id=int(row["structure.id"]),
        structure_name=str(row["structure.name"]),
        timezone=str(row["structure.timezone"] or ""),
        debt_block_cents=row["structure.debt_block_cents"],
        payment_backend=str(row["structure.payment_backend"] or ""),
        payment_options=row["structure.payment_options"],
    )


async def ensure_wallets(
    family_id: int, wallet_type_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """The family's wallet id per wallet type, creating the missing ones.

    Without ``wallet_type_ids``: every wallet type of the family's structure.
    """
    family = await family_row(family_id)
    if wallet_type_ids is None:
        wanted = {
            int(r["id"])
            for r in await WalletType.select(WalletType.id).where(
                WalletType.structure == family.structure_id
            )
        }
    else:
        wanted = set(wallet_type_ids)
    found = await _wallets_of([family_id])
    missing = [t for t in sorted(wanted) if (family_id, t) not in found]
    if missing:
        # The unique (family, wallet_type) index settles a race between two requests.
        await Wallet.insert(
            *[Wallet(family=family_id, wallet_type=t) for t in missing]
        ).on_conflict(action="DO NOTHING")
        found = await _wallets_of([family_id])
    return {t: w for (f, t), w in found.items() if f == family_id}


async def _wallets_of(family_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    if not family_ids:
        return {}
    rows = await Wallet.select(Wallet.id, Wallet.family, Wallet.wallet_type).where(
        Wallet.family.is_in(list(family_ids))
    )
    return {(int(r["family"]), int(r["wallet_type"])): int(r["id"]) for r in rows}


async def wallet_balances(family_id: int, *, create_missing: bool = True) -> list[WalletBalance]:
    """Every wallet of the family (one per wallet type of its structure) with its balance.

    ``create_missing=False`` is a pure read (the booking pages): a wallet type without a
    wallet yet has a balance of 0 and is simply not listed.
    """
    if create_missing:
        await ensure_wallets(family_id)
    rows = await (
        Wallet.select(
            Wallet.id,
            Wallet.wallet_type.id,
            Wallet.wallet_type.name,
            Wallet.wallet_type.position,
            Wallet.wallet_type.debt_block_cents,
        )
        .where(Wallet.family == family_id)
        .output(nested=False)
    )
    sums = {
        int(r["wallet"]): int(r["total"] or 0)
        for r in await LedgerEntry.select(
            LedgerEntry.wallet, Sum(LedgerEntry.amount_cents, alias="total")
        )
        .where(LedgerEntry.family == family_id)
        .group_by(LedgerEntry.wallet)
    }
    rows.sort(key=lambda r: (r["wallet_type.position"], r["wallet_type.name"], r["id"]))
    return [
        WalletBalance(
            wallet_id=int(r["id"]),
            wallet_type_id=int(r["wallet_type.id"]),
            name=str(r["wallet_type.name"]),
            balance_cents=sums.get(int(r["id"]), 0),
            block_threshold_cents=r["wallet_type.debt_block_cents"],
        )
        for r in rows
    ]


async def family_standing(family_id: int) -> FamilyStanding:
    """Balances, thresholds and file state, as the booking eligibility rules take them."""
    family = await family_row(family_id)
    wallets = await wallet_balances(family_id)
    return standing_from(wallets, family.file_complete, family.debt_block_cents)


def standing_from(
    wallets: Sequence[WalletBalance],
    file_complete: bool,
    global_threshold_cents: int | None,
    file_missing: Sequence[str] = (),
    file_missing_sealed: Sequence[str] = (),
) -> FamilyStanding:
    return FamilyStanding(
        file_complete=file_complete,
        file_missing=tuple(file_missing),
        file_missing_sealed=tuple(file_missing_sealed),
        wallets=tuple(
            WalletStanding(w.wallet_id, w.name, w.balance_cents, w.block_threshold_cents)
            for w in wallets
        ),
        global_threshold_cents=global_threshold_cents,
    )


def debt_block_reasons(standing: FamilyStanding) -> list[BlockReason]:
    """The debt reasons (global, per wallet) that block bookings, for the payment page."""
    debts = [r for r in family_block_reasons(standing) if r.code is BlockCode.GLOBAL_DEBT]
    return debts + blocked_wallet_reasons(standing)


async def record_correction(
    wallet_id: int, amount_cents: int, label: str, entry_date: date, dedupe_key: str | None = None
) -> bool:
    """Append a correction (credit > 0 or debit < 0); False when the dedupe key was used."""
    rules.entry_kind(amount_cents)
    wallet = await Wallet.select(Wallet.family).where(Wallet.id == wallet_id).first()
    if wallet is None:
        raise NotFound(wallet_id)
    inserted = await (
        LedgerEntry.insert(
            LedgerEntry(
                wallet=wallet_id,
                family=wallet["family"],
                kind=rules.entry_kind(amount_cents),
                amount_cents=amount_cents,
                entry_date=entry_date,
                label=label[:200],
                dedupe_key=dedupe_key,
            )
        )
        .on_conflict(action="DO NOTHING")
        .returning(LedgerEntry.id)
    )
    return bool(inserted)


# --- reservations not yet debited ---------------------------------------------------------


def _reservation_columns() -> list[Any]:
    return [
        Reservation.id,
        Reservation.family.id,
        Reservation.family.tariff_band,
        Reservation.person.id,
        Reservation.status,
        Reservation.quantity,
        Reservation.absence_justified,
        Reservation.activity_day.day,
        Reservation.activity_day._.activity._.id,
        Reservation.activity_day._.activity._.name,
        Reservation.activity_day._.activity._.wallet_type.id,
    ]


def _not_in_ledger() -> Any:
    """Reservations without any ledger entry (NOT IN over a list that has no NULL)."""
    return Reservation.id.not_in(
        LedgerEntry.select(LedgerEntry.reservation).where(LedgerEntry.reservation.is_not_null())
    )


@dataclass(frozen=True)
class _Candidate:
    row: dict[str, Any]
    billable: Billable


def _candidates(
    rows: Iterable[dict[str, Any]], tariffs: TariffBook, wallets: dict[tuple[int, int], int]
) -> list[_Candidate]:
    out = []
    for r in rows:
        day = clock.as_date(r["activity_day.day"])
        family_id = int(r["family.id"])
        wallet_type = int(r["activity_day.activity.wallet_type.id"])
        out.append(
            _Candidate(
                r,
                Billable(
                    reservation_id=int(r["id"]),
                    wallet_id=wallets.get((family_id, wallet_type), 0),
                    day=day,
                    status=ReservationStatus(r["status"]),
                    quantity=int(r["quantity"] or 0),
                    absence_justified=bool(r["absence_justified"]),
                    unit_price_cents=tariffs.price(
                        int(r["activity_day.activity.id"]), str(r["family.tariff_band"]), day
                    ),
                ),
            )
        )
    return out


async def unbilled_reservations(
    family_id: int, until: date, statuses: frozenset[ReservationStatus]
) -> list[Billable]:
    """The family's reservations with the given statuses, days up to ``until``, that have no
    ledger entry yet, priced at the tariff of their day."""
    if not statuses:
        return []
    rows = await (
        Reservation.select(*_reservation_columns())
        .where(
            (Reservation.family == family_id)
            & Reservation.status.is_in(sorted(statuses))
            & (Reservation.activity_day.day <= until)
            & _not_in_ledger()
        )
        .output(nested=False)
    )
    tariffs = await load_tariffs(int(r["activity_day.activity.id"]) for r in rows)
    wallet_types = {int(r["activity_day.activity.wallet_type.id"]) for r in rows}
    by_type = await ensure_wallets(family_id, wallet_types) if wallet_types else {}
    wallets = {(family_id, t): w for t, w in by_type.items()}
    return [c.billable for c in _candidates(rows, tariffs, wallets)]


async def estimated_balances(
    structure_id: int, until: date, statuses: frozenset[ReservationStatus]
) -> dict[int, int]:
    """Every family of the structure: the balance of all its wallets minus the cost of its
    reservations with the given statuses, days up to ``until``, not yet debited. Three
    queries for the whole structure, and a pure read (no wallet created): the daily
    low-balance check reads it for thousands of families."""
    balances = {
        int(r["family"]): int(r["total"] or 0)
        for r in await LedgerEntry.select(
            LedgerEntry.family, Sum(LedgerEntry.amount_cents, alias="total")
        )
        .where(LedgerEntry.family._.structure == structure_id)
        .group_by(LedgerEntry.family)
    }
    estimates = {
        int(r["id"]): balances.get(int(r["id"]), 0)
        for r in await Family.select(Family.id).where(Family.structure == structure_id)
    }
    if not statuses:
        return estimates
    rows = await (
        Reservation.select(*_reservation_columns())
        .where(
            (Reservation.family._.structure == structure_id)
            & Reservation.status.is_in(sorted(statuses))
            & (Reservation.activity_day.day <= until)
            & _not_in_ledger()
        )
        .output(nested=False)
    )
    tariffs = await load_tariffs(int(r["activity_day.activity.id"]) for r in rows)
    by_family: dict[int, list[Billable]] = {}
    for candidate in _candidates(rows, tariffs, {}):
        by_family.setdefault(int(candidate.row["family.id"]), []).append(candidate.billable)
    for family_id, items in by_family.items():
        costs = rules.estimated_costs(items, until, statuses)
        estimates[family_id] = estimates.get(family_id, 0) - sum(costs.values())
    return estimates


@dataclass(frozen=True)
class WalletLine:
    wallet_id: int
    name: str
    balance_cents: int
    estimated_cents: int

    @property
    def new_balance_cents(self) -> int:
        return self.balance_cents - self.estimated_cents

    @property
    def suggested_payment_cents(self) -> int:
        return rules.settling_amount(self.balance_cents, self.estimated_cents)


@dataclass(frozen=True)
class PaymentOverview:
    family_name: str
    structure_name: str
    until: date
    confirmed: bool
    waiting: bool
    wallets: list[WalletLine]
    block_reasons: list[BlockReason] = field(default_factory=list)

    @property
    def totals(self) -> Totals:
        return Totals(
            sum(w.balance_cents for w in self.wallets),
            sum(w.estimated_cents for w in self.wallets),
        )

    @property
    def suggested_total_cents(self) -> int:
        return sum(w.suggested_payment_cents for w in self.wallets)

    @property
    def amount_to_unblock_cents(self) -> int:
        return max((r.amount_to_pay_cents for r in self.block_reasons), default=0)


async def payment_overview(
    family_id: int, until: date, *, confirmed: bool = True, waiting: bool = True
) -> PaymentOverview:
    """ "Paiement et solde": balance, estimated cost and new balance per wallet, debt blocks."""
    family = await family_row(family_id)
    balances = await wallet_balances(family_id)
    items = await unbilled_reservations(
        family_id, until, rules.counted_statuses(confirmed, waiting)
    )
    costs = rules.estimated_costs(items, until, rules.counted_statuses(confirmed, waiting))
    standing = FamilyStanding(
        file_complete=family.file_complete,
        wallets=tuple(
            WalletStanding(w.wallet_id, w.name, w.balance_cents, w.block_threshold_cents)
            for w in balances
        ),
        global_threshold_cents=family.debt_block_cents,
    )
    return PaymentOverview(
        family_name=family.name,
        structure_name=family.structure_name,
        until=until,
        confirmed=confirmed,
        waiting=waiting,
        wallets=[
            WalletLine(w.wallet_id, w.name, w.balance_cents, costs.get(w.wallet_id, 0))
            for w in balances
        ],
        block_reasons=debt_block_reasons(standing),
    )


# --- consumption posting --------------------------------------------------------------------


async def post_consumptions(structure_id: int, until: date) -> int:
    """Debit the accepted reservations of the structure's ended days up to ``until``.

    Days that have not ended yet (today or later in the structure's time zone) are never
    posted, whatever ``until`` says. Justified absences are not billed, and a reservation
    already debited that became a justified absence (or was cancelled) gets a reversing
    credit. Idempotent: returns the number of ledger entries written.
    """
    structure = (
        await Structure.select(Structure.timezone).where(Structure.id == structure_id).first()
    )
    if structure is None:
        raise NotFound(structure_id)
    yesterday = date.fromordinal(clock.local_today(str(structure["timezone"])).toordinal() - 1)
    until = min(until, yesterday)
    written = 0
    async with write_transaction():
        # Read inside the write transaction: on SQLite it is taken up front, so two runs
        # cannot both see the same reservations as not yet debited.
        rows = await (
            Reservation.select(*_reservation_columns())
            .where(
                (Reservation.activity_day._.activity._.structure == structure_id)
                & (Reservation.status == ReservationStatus.ACCEPTED)
                & (Reservation.absence_justified.eq(False))
                & (Reservation.activity_day.day <= until)
                & _not_in_ledger()
            )
            .output(nested=False)
        )
        tariffs = await load_tariffs(int(r["activity_day.activity.id"]) for r in rows)
        pairs = {
            (int(r["family.id"]), int(r["activity_day.activity.wallet_type.id"])) for r in rows
        }
        wallets = await _ensure_wallet_pairs(pairs)
        candidates = _candidates(rows, tariffs, wallets)
        billables = (c.billable for c in candidates)
        debits = {d.reservation_id: d for d in rules.consumption_debits(billables, until)}
        entries = []
        for c in candidates:
            debit = debits.get(c.billable.reservation_id)
            if debit is None:
                if c.billable.unit_price_cents is None:
                    log.warning(
                        "réservation %s du %s : aucun tarif en vigueur, non débitée",
                        c.billable.reservation_id,
                        c.billable.day,
                    )
                continue
            r = c.row
            entries.append(
                LedgerEntry(
                    wallet=debit.wallet_id,
                    family=int(r["family.id"]),
                    kind=rules.DEBIT,
                    amount_cents=-debit.total_cents,
                    entry_date=debit.day,
                    label=str(r["activity_day.activity.name"])[:200],
                    person=int(r["person.id"]),
                    activity=int(r["activity_day.activity.id"]),
                    reservation=debit.reservation_id,
                    unit_price_cents=debit.unit_price_cents,
                    quantity=debit.quantity,
                    dedupe_key=rules.consumption_key(debit.reservation_id),
                )
            )
        written += await _insert_entries(entries)
        written += await _post_reversals(structure_id)
    return written


async def credit_unbillable(structure_id: int) -> int:
    """Credit back at once the consumptions of the structure whose reservation is no
    longer billable (a justified absence decided after posting); the nightly posting does
    it too, once: the reversal's dedupe key makes a second credit impossible."""
    async with write_transaction():
        return await _post_reversals(structure_id)


async def _ensure_wallet_pairs(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    families = sorted({f for f, _ in pairs})
    found = await _wallets_of(families)
    missing = sorted(p for p in pairs if p not in found)
    for start in range(0, len(missing), _CHUNK):
        chunk = missing[start : start + _CHUNK]
        await Wallet.insert(*[Wallet(family=f, wallet_type=t) for f, t in chunk]).on_conflict(
            action="DO NOTHING"
        )
    return await _wallets_of(families) if missing else found


async def _insert_entries(entries: Sequence[LedgerEntry]) -> int:
    written = 0
    for start in range(0, len(entries), _CHUNK):
        inserted = await (
            LedgerEntry.insert(*entries[start : start + _CHUNK])
            .on_conflict(action="DO NOTHING")
            .returning(LedgerEntry.id)
        )
        written += len(inserted)
    return written


async def _post_reversals(structure_id: int) -> int:
    """Credit back the consumptions whose reservation is no longer billable."""
    debited = await LedgerEntry.select(
        LedgerEntry.wallet,
        LedgerEntry.family,
        LedgerEntry.amount_cents,
        LedgerEntry.entry_date,
        LedgerEntry.label,
        LedgerEntry.person,
        LedgerEntry.activity,
        LedgerEntry.reservation,
        LedgerEntry.unit_price_cents,
        LedgerEntry.quantity,
    ).where(
        (LedgerEntry.kind == rules.DEBIT)
        & LedgerEntry.reservation.is_not_null()
        & (LedgerEntry.reservation._.activity_day._.activity._.structure == structure_id)
        & (
            (LedgerEntry.reservation._.absence_justified.eq(True))
            | (LedgerEntry.reservation._.status != ReservationStatus.ACCEPTED)
        )
        & LedgerEntry.reservation.not_in(
            LedgerEntry.select(LedgerEntry.reservation).where(
                (LedgerEntry.kind == rules.CREDIT) & LedgerEntry.reservation.is_not_null()
            )
        )
    )
    if not debited:
        return 0
    entries = [
        LedgerEntry(
            wallet=d["wallet"],
            family=d["family"],
            kind=rules.CREDIT,
            amount_cents=-int(d["amount_cents"]),
            entry_date=clock.as_date(d["entry_date"]),
            label=f"Annulation : {d['label']}"[:200],
            person=d["person"],
            activity=d["activity"],
            reservation=d["reservation"],
            unit_price_cents=d["unit_price_cents"],
            quantity=d["quantity"],
            dedupe_key=rules.reversal_key(int(d["reservation"])),
        )
        for d in debited
        if int(d["amount_cents"]) < 0
    ]
    return await _insert_entries(entries)


# --- histories ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsumptionLine:
    day: date
    last_name: str
    first_name: str
    activity: str
    unit_price_cents: int | None
    quantity: int | None
    total_cents: int  # what the family was charged: positive for a debit


@dataclass(frozen=True)
class PaymentLine:
    day: date
    mode: str
    mode_label: str
    piece_number: str
    payer_name: str
    bank_name: str
    amount_cents: int
    entry_id: int = 0  # the ledger entry: its receipt is /historiques/recu/<entry_id>


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class History:
    month: Month
    consumptions: list[ConsumptionLine]
    payments: list[PaymentLine]
    persons: list[Option]
    activities: list[Option]

    @property
    def consumption_total_cents(self) -> int:
        return sum(line.total_cents for line in self.consumptions)

    @property
    def payment_total_cents(self) -> int:
        return sum(line.amount_cents for line in self.payments)


async def latest_history_month(family_id: int) -> Month | None:
    """The last month with a line in the family's histories (consumption or payment)."""
    rows = await (
        LedgerEntry.select(LedgerEntry.entry_date)
        .where(LedgerEntry.family == family_id)
        .order_by(LedgerEntry.entry_date, ascending=False)
        .limit(1)
    )
    return Month.of(clock.as_date(rows[0]["entry_date"])) if rows else None


async def history(
    family_id: int,
    month: Month,
    *,
    day: date | None = None,
    person_id: int | None = None,
    activity_id: int | None = None,
) -> History:
    """Consumptions (with filters) and payments of one month of the family's ledger."""
    family = await family_row(family_id)
    first, last = (day, day) if day else (month.first_day, month.last_day)
    where = (
        (LedgerEntry.family == family_id)
        & LedgerEntry.payment_mode.is_null()
        & (LedgerEntry.entry_date >= first)
        & (LedgerEntry.entry_date <= last)
    )
    if person_id is not None:
        where &= LedgerEntry.person == person_id
    if activity_id is not None:
        where &= LedgerEntry.activity == activity_id
    consumption_rows = await (
        LedgerEntry.select(
            LedgerEntry.id,
            LedgerEntry.entry_date,
            LedgerEntry.amount_cents,
            LedgerEntry.unit_price_cents,
            LedgerEntry.quantity,
            LedgerEntry.label,
            LedgerEntry.person.first_name,
            LedgerEntry.person.last_name,
            LedgerEntry.activity.name,
        )
        .where(where)
        .output(nested=False)
    )
    consumptions = [
        ConsumptionLine(
            day=clock.as_date(r["entry_date"]),
            last_name=str(r["person.last_name"] or ""),
            first_name=str(r["person.first_name"] or ""),
            activity=str(r["activity.name"] or r["label"] or ""),
            unit_price_cents=r["unit_price_cents"],
            quantity=r["quantity"],
            total_cents=-int(r["amount_cents"]),
        )
        for r in consumption_rows
    ]
    consumptions.sort(key=lambda c: (c.first_name, c.activity))
    consumptions.sort(key=lambda c: c.day, reverse=True)
    payment_rows = await (
        LedgerEntry.select(
            LedgerEntry.id,
            LedgerEntry.entry_date,
            LedgerEntry.amount_cents,
            LedgerEntry.payment_mode,
            LedgerEntry.piece_number,
            LedgerEntry.payer_name,
            LedgerEntry.bank_name,
        )
        .where(
            (LedgerEntry.family == family_id)
            & LedgerEntry.payment_mode.is_not_null()
            & (LedgerEntry.entry_date >= month.first_day)
            & (LedgerEntry.entry_date <= month.last_day)
        )
        .order_by(LedgerEntry.entry_date, ascending=False)
        .order_by(LedgerEntry.id, ascending=False)
    )
    payments = [
        PaymentLine(
            day=clock.as_date(r["entry_date"]),
            mode=str(r["payment_mode"]),
            mode_label=PAYMENT_MODES.get(str(r["payment_mode"]), str(r["payment_mode"])),
            piece_number=str(r["piece_number"] or ""),
            payer_name=str(r["payer_name"] or ""),
            bank_name=ONLINE_PAYMENT_LABEL
            if r["payment_mode"] == "CB"
            else str(r["bank_name"] or ""),
            amount_cents=int(r["amount_cents"]),
            entry_id=int(r["id"]),
        )
        for r in payment_rows
    ]
    persons = await (
        Person.select(Person.id, Person.first_name)
        .where(Person.family == family_id)
        .order_by(Person.first_name)
    )
    activities = await (
        Activity.select(Activity.id, Activity.name)
        .where(Activity.structure == family.structure_id)
        .order_by(Activity.position)
        .order_by(Activity.name)
    )
    return History(
        month=month,
        consumptions=consumptions,
        payments=payments,
        persons=[Option(int(p["id"]), str(p["first_name"])) for p in persons],
        activities=[Option(int(a["id"]), str(a["name"])) for a in activities],
    )
