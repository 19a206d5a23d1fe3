"""SEPA direct debit use cases: the creditor settings, mandates (signed online or recorded
from paper, revoked), the monthly run (amounts due, pre-notification e-mails, the pain.008
file), posting the debits to the ledger and recording the bank's rejects.

Idempotent by unique keys: one run per structure and month, one debit per run and wallet,
one ledger credit per debit (dedupe key ``sepa:<debit id>``) and one reversal per reject
(``sepa-reject:<debit id>``); e-mails are queued in the outbox with dedupe keys, in the
transaction of the change (the relay's periodic sweep sends them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from piccolo.query.functions.aggregate import Sum

from portal import clock
from portal.db import write_transaction
from portal.domain import errors
from portal.domain.money.rules import Month
from portal.domain.money_format import format_euros
from portal.domain.notifications.service import family_addresses, render_email
from portal.domain.numbers import parse_count
from portal.domain.outbox.service import queue_email
from portal.domain.sepa import rules
from portal.domain.sepa.rules import Basis, DebitStatus, SepaError
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import (
    Family,
    LedgerEntry,
    SepaCreditor,
    SepaDebit,
    SepaDebitRun,
    SepaMandate,
    Structure,
    Wallet,
)

PAYMENT_MODE = "PRELEVEMENT"


class NotFound(errors.NotFound):
    """No such mandate, run or debit for this family or structure."""


# --- creditor ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Creditor:
    structure_id: int
    name: str
    creditor_id: str
    iban: str
    bic: str
    debit_day: int
    notice_days: int
    basis: Basis
    active: bool


def _creditor(row: dict[str, Any]) -> Creditor:
    return Creditor(
        structure_id=int(row["structure"]),
        name=str(row["creditor_name"]),
        creditor_id=str(row["creditor_id"]),
        iban=str(row["iban"]),
        bic=str(row["bic"]),
        debit_day=int(row["debit_day"]),
        notice_days=int(row["notice_days"]),
        basis=Basis(str(row["basis"])),
        active=bool(row["active"]),
    )


async def creditor(structure_id: int) -> Creditor | None:
    """The structure's creditor settings, None when it does not offer direct debit."""
    row = await SepaCreditor.select().where(SepaCreditor.structure == structure_id).first()
    return None if row is None else _creditor(row)


@dataclass(frozen=True)
class CreditorForm:
    name: str
    creditor_id: str
    iban: str
    bic: str
    debit_day: int
    notice_days: int
    basis: Basis
    active: bool


def check_creditor_form(
    name: str, creditor_id: str, iban: str, bic: str, debit_day: str, notice_days: str,
    basis: str, active: bool,
) -> CreditorForm:  # fmt: skip
    """The settings as typed by staff, checked (SepaError lists the first problem)."""
    holder = rules.check_holder(name)
    ics = rules.check_creditor_id(creditor_id)
    account = rules.check_account(iban, bic)
    day = parse_count(debit_day)
    if day is None or not 1 <= day <= 28:
        raise SepaError("Le jour de prélèvement doit être compris entre 1 et 28.")
    notice = parse_count(notice_days)
    if notice is None or not rules.MIN_NOTICE_DAYS <= notice <= rules.MAX_NOTICE_DAYS:
        raise SepaError("Le délai de prénotification doit être compris entre 1 et 60 jours.")
    try:
        chosen = Basis(basis)
    except ValueError:
        raise SepaError("Montant prélevé inconnu : montant dû ou consommations du mois.") from None
    return CreditorForm(holder, ics, account.iban, account.bic, day, notice, chosen, active)


async def save_creditor(actor: Actor, structure_id: int, form: CreditorForm) -> None:
    values: dict[Any, Any] = {
        SepaCreditor.creditor_name: form.name,
        SepaCreditor.creditor_id: form.creditor_id,
        SepaCreditor.iban: form.iban,
        SepaCreditor.bic: form.bic,
        SepaCreditor.debit_day: form.debit_day,
        SepaCreditor.notice_days: form.notice_days,
        SepaCreditor.basis: form.basis.value,
        SepaCreditor.active: form.active,
        SepaCreditor.updated_at: clock.utcnow(),
    }
    async with write_transaction():
        await audit.record(
            actor,
            "sepa.creditor",
            structure_id=structure_id,
            table="sepa_creditor",
            after={"creditor_id": form.creditor_id, "debit_day": form.debit_day,
                   "notice_days": form.notice_days, "basis": form.basis.value,
                   "active": form.active},
        )  # fmt: skip
        found = await SepaCreditor.select(SepaCreditor.id).where(
            SepaCreditor.structure == structure_id
        )
        if found:
            await SepaCreditor.update(values).where(SepaCreditor.structure == structure_id)
        else:
            row = SepaCreditor(structure=structure_id)
            for column, value in values.items():
                setattr(row, column._meta.name, value)
            await row.save()


# --- mandates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mandate:
    mandate_id: int
    family_id: int
    family_name: str
    reference: str
    holder: str
    iban: str
    bic: str
    signed_on: date
    source: str
    notice_days: int
    revoked: bool

    @property
    def masked_iban(self) -> str:
        return rules.mask_iban(self.iban)

    @property
    def source_label(self) -> str:
        return "signé en ligne" if self.source == "online" else "mandat papier"


def _mandate(row: dict[str, Any]) -> Mandate:
    return Mandate(
        mandate_id=int(row["id"]),
        family_id=int(row["family"]),
        family_name=str(row.get("family.name") or ""),
        reference=str(row["reference"]),
        holder=str(row["holder"]),
        iban=str(row["iban"]),
        bic=str(row["bic"]),
        signed_on=clock.as_date(row["signed_on"]),
        source=str(row["source"]),
        notice_days=int(row["notice_days"]),
        revoked=row["revoked_at"] is not None,
    )


_MANDATE_COLUMNS = (
    SepaMandate.id,
    SepaMandate.family,
    SepaMandate.family.name,
    SepaMandate.reference,
    SepaMandate.holder,
    SepaMandate.iban,
    SepaMandate.bic,
    SepaMandate.signed_on,
    SepaMandate.source,
    SepaMandate.notice_days,
    SepaMandate.revoked_at,
)


async def live_mandate(family_id: int) -> Mandate | None:
    """The family's mandate in force (at most one)."""
    row = await (
        SepaMandate.select(*_MANDATE_COLUMNS)
        .where((SepaMandate.family == family_id) & SepaMandate.revoked_at.is_null())
        .output(nested=False)
        .first()
    )
    return None if row is None else _mandate(row)


async def family_mandate(family_id: int, mandate_id: int) -> Mandate:
    """One of the family's mandates (revoked ones too), NotFound otherwise."""
    row = await (
        SepaMandate.select(*_MANDATE_COLUMNS)
        .where((SepaMandate.family == family_id) & (SepaMandate.id == mandate_id))
        .output(nested=False)
        .first()
    )
    if row is None:
        raise NotFound(mandate_id)
    return _mandate(row)


async def structure_mandates(structure_id: int) -> list[Mandate]:
    rows = await (
        SepaMandate.select(*_MANDATE_COLUMNS)
        .where(SepaMandate.family._.structure == structure_id)
        .order_by(SepaMandate.id, ascending=False)
        .output(nested=False)
    )
    return [_mandate(r) for r in rows]


async def _family_structure(family_id: int) -> int:
    row = await Family.select(Family.structure).where(Family.id == family_id).first()
    if row is None:
        raise NotFound(family_id)
    return int(row["structure"])


async def _create_mandate(
    family_id: int, holder: str, account: rules.BankAccount, signed_on: date, source: str,
    account_id: int | None,
) -> Mandate:  # fmt: skip
    structure_id = await _family_structure(family_id)
    settings = await creditor(structure_id)
    if settings is None or not settings.active:
        raise SepaError("Cette structure ne propose pas le prélèvement automatique.")
    async with write_transaction():
        if await live_mandate(family_id) is not None:
            raise SepaError(
                "Un mandat de prélèvement est déjà en vigueur : révoquez-le avant d'en signer "
                "un nouveau."
            )
        count = await SepaMandate.count().where(SepaMandate.family == family_id)
        reference = rules.mandate_reference(structure_id, family_id, int(count) + 1)
        await SepaMandate.insert(
            SepaMandate(
                family=family_id,
                reference=reference,
                holder=holder,
                iban=account.iban,
                bic=account.bic,
                signed_on=signed_on,
                signed_at=clock.utcnow(),
                source=source,
                account=account_id,
                notice_days=settings.notice_days,
                created_at=clock.utcnow(),
            )
        )
    mandate = await live_mandate(family_id)
    assert mandate is not None
    return mandate


async def sign_online(
    family_id: int, account_id: int, holder: str, iban: str, bic: str, *, agreed: bool
) -> Mandate:
    """A parent signs a mandate in the portal (today's date)."""
    if not agreed:
        raise SepaError("Cochez la case d'autorisation pour signer le mandat.")
    checked_holder = rules.check_holder(holder)
    account = rules.check_account(iban, bic)
    structure_id = await _family_structure(family_id)
    tz = await _timezone(structure_id)
    return await _create_mandate(
        family_id, checked_holder, account, clock.local_today(tz), "online", account_id
    )


async def record_paper_mandate(
    actor: Actor, structure_id: int, family_id: int, holder: str, iban: str, bic: str,
    signed_on: date,
) -> Mandate:  # fmt: skip
    """Staff record a mandate signed on paper."""
    if await _family_structure(family_id) != structure_id:
        raise NotFound(family_id)
    checked_holder = rules.check_holder(holder)
    account = rules.check_account(iban, bic)
    if signed_on > clock.local_today(await _timezone(structure_id)):
        raise SepaError("La date de signature ne peut être dans le futur.")
    mandate = await _create_mandate(family_id, checked_holder, account, signed_on, "paper", None)
    async with write_transaction():
        await audit.record(
            actor, "sepa.paper_mandate", structure_id=structure_id, table="sepa_mandate",
            target_id=mandate.mandate_id, after={"reference": mandate.reference},
        )  # fmt: skip
    return mandate


async def revoke(family_id: int, mandate_id: int, by: str) -> bool:
    """Revoke the mandate (parent or staff); False when it was already revoked."""
    async with write_transaction():
        done = await (
            SepaMandate.update({SepaMandate.revoked_at: clock.utcnow(), SepaMandate.revoked_by: by})
            .where(
                (SepaMandate.id == mandate_id)
                & (SepaMandate.family == family_id)
                & SepaMandate.revoked_at.is_null()
            )
            .returning(SepaMandate.id)
        )
    return bool(done)


async def _timezone(structure_id: int) -> str:
    row = await Structure.select(Structure.timezone).where(Structure.id == structure_id).first()
    return str(row["timezone"]) if row else clock.DEFAULT_TIMEZONE


# --- the monthly run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedDebit:
    mandate: Mandate
    wallet_id: int
    wallet_name: str
    amount_cents: int


@dataclass(frozen=True)
class RunPlan:
    month: Month
    collection_date: date
    basis: Basis
    debits: list[PlannedDebit]
    too_late: list[Mandate] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(d.amount_cents for d in self.debits)


async def _balances(family_ids: list[int]) -> dict[int, int]:
    if not family_ids:
        return {}
    rows = await (
        LedgerEntry.select(LedgerEntry.wallet, Sum(LedgerEntry.amount_cents, alias="total"))
        .where(LedgerEntry.family.is_in(family_ids))
        .group_by(LedgerEntry.wallet)
    )
    return {int(r["wallet"]): int(r["total"] or 0) for r in rows}


async def _month_consumptions(family_ids: list[int], month: Month) -> dict[int, int]:
    if not family_ids:
        return {}
    rows = await (
        LedgerEntry.select(LedgerEntry.wallet, Sum(LedgerEntry.amount_cents, alias="total"))
        .where(
            LedgerEntry.family.is_in(family_ids)
            & LedgerEntry.payment_mode.is_null()
            & LedgerEntry.activity.is_not_null()
            & (LedgerEntry.entry_date >= month.first_day)
            & (LedgerEntry.entry_date <= month.last_day)
        )
        .group_by(LedgerEntry.wallet)
    )
    return {int(r["wallet"]): -int(r["total"] or 0) for r in rows}


async def plan_run(structure_id: int, month: Month, today: date) -> RunPlan:
    """What a run of ``month`` would collect now, per family with a mandate and wallet."""
    settings = await creditor(structure_id)
    if settings is None or not settings.active:
        raise SepaError("Renseignez d'abord les paramètres du prélèvement (créancier SEPA).")
    collection = rules.collection_date(month.first_day, settings.debit_day)
    if collection < today:
        raise SepaError(
            f"La date de prélèvement de {month.label.lower()} ({collection:%d/%m/%Y}) est passée."
        )
    mandates = [
        m for m in await structure_mandates(structure_id) if not m.revoked and m.signed_on <= today
    ]
    family_ids = sorted({m.family_id for m in mandates})
    wallets = await (
        Wallet.select(
            Wallet.id, Wallet.family, Wallet.wallet_type.name, Wallet.wallet_type.position
        )
        .where(Wallet.family.is_in(family_ids or [0]))
        .output(nested=False)
    )
    wallets.sort(key=lambda w: (w["wallet_type.position"], w["wallet_type.name"], w["id"]))
    by_family: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for w in wallets:
        by_family[int(w["family"])].append(w)
    balances = await _balances(family_ids)
    consumed = await _month_consumptions(family_ids, month.shift(-1))
    debits: list[PlannedDebit] = []
    too_late: list[Mandate] = []
    for mandate in sorted(mandates, key=lambda m: (m.family_name, m.family_id)):
        dues = [
            PlannedDebit(
                mandate,
                int(w["id"]),
                str(w["wallet_type.name"]),
                rules.amount_due(
                    settings.basis, balances.get(int(w["id"]), 0), consumed.get(int(w["id"]), 0)
                ),
            )
            for w in by_family.get(mandate.family_id, [])
        ]
        dues = [d for d in dues if d.amount_cents > 0]
        if not dues:
            continue
        if not rules.can_notify(today, collection, mandate.notice_days):
            too_late.append(mandate)
            continue
        debits.extend(dues)
    return RunPlan(month, collection, settings.basis, debits, too_late)


@dataclass(frozen=True)
class PreparedRun:
    run_id: int
    added: int  # debits created by this call (0 when the run was already complete)
    notified: int


async def prepare_run(
    actor: Actor, structure_id: int, month: Month, today: date, *, base_url: str
) -> PreparedRun:
    """Create (or complete) the run of ``month``: one debit per family and wallet due, and
    its pre-notification e-mail. Running it again adds nothing already there."""
    plan = await plan_run(structure_id, month, today)
    structure_name = (
        await Structure.select(Structure.name).where(Structure.id == structure_id).first()
    )
    settings = await creditor(structure_id)
    assert settings is not None and structure_name is not None
    addresses = await family_addresses({d.mandate.family_id for d in plan.debits}, None)
    async with write_transaction():
        await SepaDebitRun.insert(
            SepaDebitRun(
                structure=structure_id,
                month=month.key,
                collection_date=plan.collection_date,
                basis=plan.basis.value,
                created_by=actor.login,
                created_at=clock.utcnow(),
            )
        ).on_conflict(action="DO NOTHING")
        run = (
            await SepaDebitRun.select(SepaDebitRun.id, SepaDebitRun.collection_date)
            .where((SepaDebitRun.structure == structure_id) & (SepaDebitRun.month == month.key))
            .first()
        )
        assert run is not None
        run_id = int(run["id"])
        collection = clock.as_date(run["collection_date"])
        used = {
            int(r["mandate"])
            for r in await SepaDebit.select(SepaDebit.mandate).where(
                (SepaDebit.debit_run != run_id) & (SepaDebit.status != DebitStatus.REJECTED.value)
            )
        }
        added: list[tuple[int, PlannedDebit]] = []
        for planned in plan.debits:
            inserted = await (
                SepaDebit.insert(
                    SepaDebit(
                        debit_run=run_id,
                        mandate=planned.mandate.mandate_id,
                        family=planned.mandate.family_id,
                        wallet=planned.wallet_id,
                        amount_cents=planned.amount_cents,
                        end_to_end_id=rules.end_to_end_id(
                            planned.mandate.reference, month.key, planned.wallet_id
                        ),
                        sequence=rules.sequence_type(planned.mandate.mandate_id in used),
                        status=DebitStatus.SCHEDULED.value,
                        created_at=clock.utcnow(),
                    )
                )
                .on_conflict(action="DO NOTHING")
                .returning(SepaDebit.id)
            )
            if inserted:
                added.append((int(inserted[0]["id"]), planned))
        notified = 0
        for debit_id, planned in added:
            to = addresses.get(planned.mandate.family_id) or []
            if not to:
                continue
            mail = render_email(
                "sepa_notice",
                family_name=planned.mandate.family_name,
                structure_name=str(structure_name["name"]),
                creditor_name=settings.name,
                creditor_id=settings.creditor_id,
                amount=format_euros(planned.amount_cents),
                wallet_name=planned.wallet_name,
                collection_date=collection.strftime("%d/%m/%Y"),
                reference=planned.mandate.reference,
                masked_iban=planned.mandate.masked_iban,
                portal_url=f"{base_url.rstrip('/')}/",
            )
            if await queue_email(f"sepa-notice:{debit_id}", to, mail.subject, mail.text, mail.html):
                notified += 1
        await audit.record(
            actor, "sepa.run", structure_id=structure_id, table="sepa_debit_run",
            target_id=run_id, after={"month": month.key, "added": len(added)},
        )  # fmt: skip
    return PreparedRun(run_id, len(added), notified)


@dataclass(frozen=True)
class DebitLine:
    debit_id: int
    family_id: int
    family_name: str
    wallet_name: str
    reference: str
    holder: str
    iban: str
    bic: str
    mandate_signed_on: date
    amount_cents: int
    end_to_end_id: str
    sequence: str
    status: DebitStatus
    reject_code: str

    @property
    def reject_label(self) -> str:
        return rules.REJECT_REASONS.get(self.reject_code, self.reject_code)


@dataclass(frozen=True)
class Run:
    run_id: int
    structure_id: int
    month: Month
    collection_date: date
    basis: Basis
    posted: bool
    debits: list[DebitLine]

    @property
    def total_cents(self) -> int:
        return sum(d.amount_cents for d in self.debits if d.status is not DebitStatus.REJECTED)

    @property
    def collectable(self) -> list[DebitLine]:
        return [d for d in self.debits if d.status is not DebitStatus.REJECTED]


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    month: Month
    collection_date: date
    count: int
    total_cents: int
    posted: bool


async def structure_runs(structure_id: int) -> list[RunSummary]:
    runs = await (
        SepaDebitRun.select()
        .where(SepaDebitRun.structure == structure_id)
        .order_by(SepaDebitRun.month, ascending=False)
    )
    totals: dict[int, tuple[int, int]] = {}
    if runs:
        for d in await SepaDebit.select(SepaDebit.debit_run, SepaDebit.amount_cents).where(
            SepaDebit.debit_run.is_in([int(r["id"]) for r in runs])
            & (SepaDebit.status != DebitStatus.REJECTED.value)
        ):
            count, cents = totals.get(int(d["debit_run"]), (0, 0))
            totals[int(d["debit_run"])] = (count + 1, cents + int(d["amount_cents"]))
    return [
        RunSummary(
            int(r["id"]),
            Month.parse(str(r["month"])),
            clock.as_date(r["collection_date"]),
            totals.get(int(r["id"]), (0, 0))[0],
            totals.get(int(r["id"]), (0, 0))[1],
            r["posted_at"] is not None,
        )
        for r in runs
    ]


async def run_detail(structure_id: int, run_id: int) -> Run:
    run = (
        await SepaDebitRun.select()
        .where((SepaDebitRun.id == run_id) & (SepaDebitRun.structure == structure_id))
        .first()
    )
    if run is None:
        raise NotFound(run_id)
    rows = await (
        SepaDebit.select(
            SepaDebit.id,
            SepaDebit.family,
            SepaDebit.family.name,
            SepaDebit.wallet._.wallet_type._.name,
            SepaDebit.mandate._.reference,
            SepaDebit.mandate._.holder,
            SepaDebit.mandate._.iban,
            SepaDebit.mandate._.bic,
            SepaDebit.mandate._.signed_on,
            SepaDebit.amount_cents,
            SepaDebit.end_to_end_id,
            SepaDebit.sequence,
            SepaDebit.status,
            SepaDebit.reject_code,
        )
        .where(SepaDebit.debit_run == run_id)
        .order_by(SepaDebit.id)
        .output(nested=False)
    )
    debits = [
        DebitLine(
            debit_id=int(r["id"]),
            family_id=int(r["family"]),
            family_name=str(r["family.name"]),
            wallet_name=str(r["wallet.wallet_type.name"]),
            reference=str(r["mandate.reference"]),
            holder=str(r["mandate.holder"]),
            iban=str(r["mandate.iban"]),
            bic=str(r["mandate.bic"]),
            mandate_signed_on=clock.as_date(r["mandate.signed_on"]),
            amount_cents=int(r["amount_cents"]),
            end_to_end_id=str(r["end_to_end_id"]),
            sequence=str(r["sequence"]),
            status=DebitStatus(str(r["status"])),
            reject_code=str(r["reject_code"] or ""),
        )
        for r in rows
    ]
    return Run(
        run_id,
        structure_id,
        Month.parse(str(run["month"])),
        clock.as_date(run["collection_date"]),
        Basis(str(run["basis"])),
        run["posted_at"] is not None,
        debits,
    )


async def pain008(structure_id: int, run_id: int) -> bytes:
    """The run's pain.008.001.02 file for the bank, validated against the ISO 20022 schema."""
    from sepaxml import SepaDD

    run = await run_detail(structure_id, run_id)
    settings = await creditor(structure_id)
    if settings is None:
        raise SepaError("Paramètres du prélèvement manquants.")
    if not run.collectable:
        raise SepaError("Ce prélèvement ne contient aucune opération à transmettre.")
    sepa = SepaDD(
        {
            "name": settings.name,
            "IBAN": settings.iban,
            "BIC": settings.bic,
            "batch": True,
            "creditor_id": settings.creditor_id,
            "currency": "EUR",
            "instrument": "CORE",
        },
        schema="pain.008.001.02",
        clean=True,
    )
    for debit in run.collectable:
        sepa.add_payment(
            {
                "name": debit.holder,
                "IBAN": debit.iban,
                "BIC": debit.bic,
                "amount": debit.amount_cents,
                "type": debit.sequence,
                "collection_date": run.collection_date,
                "mandate_id": debit.reference,
                "mandate_date": debit.mandate_signed_on,
                "description": f"{settings.name} {run.month.label} {debit.wallet_name}",
                "endtoend_id": debit.end_to_end_id,
            }
        )
    content = sepa.export(validate=True)
    assert isinstance(content, bytes)
    return content


async def post_run(actor: Actor, structure_id: int, run_id: int, today: date) -> int:
    """Credit each scheduled debit of the run to its wallet as a "Prélèvement" payment, from
    the collection date on; returns how many were credited (0 on a replay)."""
    run = await run_detail(structure_id, run_id)
    if today < run.collection_date:
        raise SepaError(
            f"Les prélèvements seront comptabilisés à partir du {run.collection_date:%d/%m/%Y}, "
            "date de leur encaissement."
        )
    settings = await creditor(structure_id)
    bank = settings.name if settings else ""
    written = 0
    async with write_transaction():
        rows = await SepaDebit.select(
            SepaDebit.id, SepaDebit.family, SepaDebit.wallet, SepaDebit.amount_cents,
            SepaDebit.mandate._.reference, SepaDebit.mandate._.holder,
        ).where(
            (SepaDebit.debit_run == run_id) & (SepaDebit.status == DebitStatus.SCHEDULED.value)
        ).output(nested=False)  # fmt: skip
        for r in rows:
            inserted = await (
                LedgerEntry.insert(
                    LedgerEntry(
                        wallet=int(r["wallet"]),
                        family=int(r["family"]),
                        kind="credit",
                        amount_cents=int(r["amount_cents"]),
                        entry_date=run.collection_date,
                        label=f"Prélèvement {run.month.label.lower()}"[:200],
                        payment_mode=PAYMENT_MODE,
                        piece_number=str(r["mandate.reference"])[:60],
                        payer_name=str(r["mandate.holder"])[:200],
                        bank_name=f"Prélèvement SEPA {bank}"[:200],
                        dedupe_key=f"sepa:{int(r['id'])}",
                    )
                )
                .on_conflict(action="DO NOTHING")
                .returning(LedgerEntry.id)
            )
            if inserted:
                written += 1
                await SepaDebit.update(
                    {SepaDebit.status: DebitStatus.POSTED.value,
                     SepaDebit.ledger_entry: int(inserted[0]["id"])}
                ).where(SepaDebit.id == int(r["id"]))  # fmt: skip
        await SepaDebitRun.update({SepaDebitRun.posted_at: clock.utcnow()}).where(
            SepaDebitRun.id == run_id
        )
        await audit.record(
            actor, "sepa.post", structure_id=structure_id, table="sepa_debit_run",
            target_id=run_id, after={"credited": written},
        )  # fmt: skip
    return written


async def record_reject(
    actor: Actor, structure_id: int, debit_id: int, code: str, today: date, *, base_url: str
) -> bool:
    """The bank returned a posted debit (R-transaction): reverse its credit, tell the
    family. False when this reject was already recorded."""
    if code not in rules.REJECT_REASONS:
        raise SepaError("Motif de rejet inconnu.")
    row = await SepaDebit.select(
        SepaDebit.id, SepaDebit.debit_run, SepaDebit.family, SepaDebit.family.name,
        SepaDebit.wallet, SepaDebit.amount_cents, SepaDebit.status,
        SepaDebit.mandate._.reference, SepaDebit.debit_run._.month,
        SepaDebit.family._.structure.name,
    ).where(
        (SepaDebit.id == debit_id) & (SepaDebit.debit_run._.structure == structure_id)
    ).output(nested=False).first()  # fmt: skip
    if row is None:
        raise NotFound(debit_id)
    status = DebitStatus(str(row["status"]))
    if status is DebitStatus.REJECTED:
        return False
    if status is not DebitStatus.POSTED:
        raise SepaError("Seul un prélèvement déjà comptabilisé peut être rejeté par la banque.")
    amount = int(row["amount_cents"])
    addresses = await family_addresses([int(row["family"])], None)
    async with write_transaction():
        changed = await (
            SepaDebit.update(
                {SepaDebit.status: DebitStatus.REJECTED.value, SepaDebit.reject_code: code,
                 SepaDebit.rejected_at: clock.utcnow()}
            )
            .where((SepaDebit.id == debit_id) & (SepaDebit.status == DebitStatus.POSTED.value))
            .returning(SepaDebit.id)
        )  # fmt: skip
        if not changed:
            return False
        inserted = await (
            LedgerEntry.insert(
                LedgerEntry(
                    wallet=int(row["wallet"]),
                    family=int(row["family"]),
                    kind="debit",
                    amount_cents=-amount,
                    entry_date=today,
                    label=f"Rejet de prélèvement ({code} : {rules.REJECT_REASONS[code]})"[:200],
                    payment_mode=PAYMENT_MODE,
                    piece_number=str(row["mandate.reference"])[:60],
                    bank_name="Rejet bancaire",
                    dedupe_key=f"sepa-reject:{debit_id}",
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(LedgerEntry.id)
        )
        if inserted:
            await SepaDebit.update({SepaDebit.reject_entry: int(inserted[0]["id"])}).where(
                SepaDebit.id == debit_id
            )
        to = addresses.get(int(row["family"])) or []
        if to:
            mail = render_email(
                "sepa_reject",
                family_name=str(row["family.name"]),
                structure_name=str(row["family.structure.name"]),
                amount=format_euros(amount),
                month=Month.parse(str(row["debit_run.month"])).label.lower(),
                reason=rules.REJECT_REASONS[code],
                code=code,
                portal_url=f"{base_url.rstrip('/')}/",
            )
            await queue_email(f"sepa-reject:{debit_id}", to, mail.subject, mail.text, mail.html)
        await audit.record(
            actor, "sepa.reject", structure_id=structure_id, table="sepa_debit",
            target_id=debit_id, after={"code": code, "amount_cents": amount},
        )  # fmt: skip
    return True
