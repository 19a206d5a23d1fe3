"""Régie papers use cases: load what a statement, a receipt or a certificate says.

Every family-facing function takes the family id of the logged-in parent and filters on
it: another family's wallet, payment or child is NotFound (a 404 for the handler).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from portal import clock
from portal.db import write_transaction
from portal.domain import errors
from portal.domain.money.rules import Month
from portal.domain.papers import rules
from portal.domain.papers.rules import (
    AttendanceCertificate,
    Category,
    LedgerLine,
    Statement,
    TaxCertificate,
)
from portal.domain.reservation_status import ReservationStatus
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import (
    Activity,
    ActivityCategory,
    Family,
    LedgerEntry,
    Person,
    Reservation,
    Structure,
    StructureProfile,
    Wallet,
)

PAYMENT_MODES = {
    "CB": "Carte bancaire",
    "CHEQUE": "Chèque",
    "ESPECES": "Espèces",
    "PRELEVEMENT": "Prélèvement",
    "VIREMENT": "Virement",
}

LOGO_TYPES = {"image/png", "image/jpeg", "image/svg+xml"}
MAX_LOGO_BYTES = 200_000


class NotFound(errors.NotFound):
    """No such row for this family (or structure)."""


class ProfileError(ValueError):
    """The letterhead cannot be saved as given (French message)."""


# --- letterhead ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Letterhead:
    structure_id: int
    name: str
    address_lines: list[str]
    contact_email: str
    logo_data_uri: str
    signatory: str
    timezone: str


async def letterhead(structure_id: int) -> Letterhead:
    """What the structure prints at the top of its documents."""
    structure = (
        await Structure.select(
            Structure.id, Structure.name, Structure.contact_email, Structure.timezone
        )
        .where(Structure.id == structure_id)
        .first()
    )
    if structure is None:
        raise NotFound(structure_id)
    profile = (
        await StructureProfile.select(
            StructureProfile.address, StructureProfile.logo_data_uri, StructureProfile.signatory
        )
        .where(StructureProfile.structure == structure_id)
        .first()
    ) or {"address": "", "logo_data_uri": "", "signatory": ""}
    return Letterhead(
        structure_id=structure_id,
        name=str(structure["name"]),
        address_lines=[line for line in str(profile["address"]).splitlines() if line.strip()],
        contact_email=str(structure["contact_email"] or ""),
        logo_data_uri=str(profile["logo_data_uri"] or ""),
        signatory=str(profile["signatory"] or ""),
        timezone=str(structure["timezone"] or clock.DEFAULT_TIMEZONE),
    )


def logo_data_uri(content: bytes, content_type: str) -> str:
    """A data: URI for an uploaded logo; ProfileError when it is not a small image."""
    kind = content_type.split(";")[0].strip().lower()
    if kind not in LOGO_TYPES:
        raise ProfileError("Le logo doit être une image PNG, JPEG ou SVG.")
    if len(content) > MAX_LOGO_BYTES:
        raise ProfileError("Le logo ne peut dépasser 200 Ko.")
    signatures = {
        "image/png": (b"\x89PNG\r\n\x1a\n",),
        "image/jpeg": (b"\xff\xd8\xff",),
        "image/svg+xml": (b"<svg", b"<?xml"),
    }
    if not content.lstrip().startswith(signatures[kind]):
        raise ProfileError("Le fichier envoyé n'est pas une image du type annoncé.")
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}"


async def save_profile(
    actor: Actor, structure_id: int, address: str, signatory: str, logo: str | None = None
) -> None:
    """Record the letterhead; ``logo`` None keeps the current one, "" removes it."""
    if len(address) > 1000 or len(signatory) > 200:
        raise ProfileError("L'adresse ou le signataire est trop long.")
    async with write_transaction():
        await audit.record(
            actor,
            "papers.letterhead",
            structure_id=structure_id,
            table="structure_profile",
            after={
                "address": address.strip(),
                "signatory": signatory.strip(),
                "logo": "inchangé" if logo is None else ("retiré" if not logo else "nouveau"),
            },
        )
        found = await StructureProfile.select(StructureProfile.id).where(
            StructureProfile.structure == structure_id
        )
        values: dict[Any, Any] = {
            StructureProfile.address: address.strip(),
            StructureProfile.signatory: signatory.strip(),
            StructureProfile.updated_at: clock.utcnow(),
        }
        if logo is not None:
            values[StructureProfile.logo_data_uri] = logo
        if found:
            await StructureProfile.update(values).where(StructureProfile.structure == structure_id)
        else:
            await StructureProfile(
                structure=structure_id,
                address=address.strip(),
                signatory=signatory.strip(),
                logo_data_uri=logo or "",
                updated_at=clock.utcnow(),
            ).save()


# --- activity categories ---------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityChoice:
    activity_id: int
    name: str
    category: Category
    is_default: bool


async def activity_categories(structure_id: int) -> list[ActivityChoice]:
    """Every activity of the structure with its tax category (set by staff or by default)."""
    activities = await (
        Activity.select(Activity.id, Activity.name)
        .where(Activity.structure == structure_id)
        .order_by(Activity.position)
        .order_by(Activity.name)
    )
    ids = [int(a["id"]) for a in activities]
    chosen: dict[int, Category] = {}
    if ids:
        for row in await ActivityCategory.select(
            ActivityCategory.activity, ActivityCategory.category
        ).where(ActivityCategory.activity.is_in(ids)):
            category = rules.parse_category(str(row["category"]))
            if category is not None:
                chosen[int(row["activity"])] = category
    return [
        ActivityChoice(
            int(a["id"]),
            str(a["name"]),
            chosen.get(int(a["id"]), rules.default_category(str(a["name"]))),
            int(a["id"]) not in chosen,
        )
        for a in activities
    ]


async def set_categories(actor: Actor, structure_id: int, categories: dict[int, Category]) -> int:
    """Record the category of the structure's activities; returns how many were set."""
    async with write_transaction():
        await audit.record(
            actor,
            "papers.categories",
            structure_id=structure_id,
            table="activity_category",
            after={str(k): v.value for k, v in sorted(categories.items())},
        )
        owned = {
            int(r["id"])
            for r in await Activity.select(Activity.id).where(
                (Activity.structure == structure_id) & Activity.id.is_in(sorted(categories) or [0])
            )
        }
        for activity_id in sorted(owned):
            await ActivityCategory.delete().where(ActivityCategory.activity == activity_id)
            await ActivityCategory(
                activity=activity_id, category=categories[activity_id].value
            ).save()
    return len(owned)


# --- ledger lines --------------------------------------------------------------------------


def _line(r: dict[str, Any]) -> LedgerLine:
    first, last = r.get("person.first_name"), r.get("person.last_name")
    return LedgerLine(
        entry_id=int(r["id"]),
        day=clock.as_date(r["entry_date"]),
        amount_cents=int(r["amount_cents"]),
        label=str(r["label"] or ""),
        payment_mode=r["payment_mode"],
        person_id=r["person"],
        person_name=f"{first or ''} {last or ''}".strip(),
        activity_id=r["activity"],
        activity_name=str(r.get("activity.name") or r["label"] or ""),
        quantity=r["quantity"],
        piece_number=str(r["piece_number"] or ""),
        payer_name=str(r["payer_name"] or ""),
        bank_name=str(r["bank_name"] or ""),
    )


async def _lines(where: Any) -> list[LedgerLine]:
    rows = await (
        LedgerEntry.select(
            LedgerEntry.id,
            LedgerEntry.wallet,
            LedgerEntry.entry_date,
            LedgerEntry.amount_cents,
            LedgerEntry.label,
            LedgerEntry.payment_mode,
            LedgerEntry.person,
            LedgerEntry.person.first_name,
            LedgerEntry.person.last_name,
            LedgerEntry.activity,
            LedgerEntry.activity.name,
            LedgerEntry.quantity,
            LedgerEntry.piece_number,
            LedgerEntry.payer_name,
            LedgerEntry.bank_name,
        )
        .where(where)
        .order_by(LedgerEntry.entry_date)
        .order_by(LedgerEntry.id)
        .output(nested=False)
    )
    return [_line(r) for r in rows]


# --- family -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyHeader:
    family_id: int
    name: str
    structure_id: int


async def _family(family_id: int) -> FamilyHeader:
    row = (
        await Family.select(Family.id, Family.name, Family.structure)
        .where(Family.id == family_id)
        .first()
    )
    if row is None:
        raise NotFound(family_id)
    return FamilyHeader(int(row["id"]), str(row["name"]), int(row["structure"]))


async def family_structure(family_id: int) -> int:
    return (await _family(family_id)).structure_id


async def structure_families(structure_id: int) -> list[FamilyHeader]:
    rows = await (
        Family.select(Family.id, Family.name)
        .where(Family.structure == structure_id)
        .order_by(Family.name)
    )
    return [FamilyHeader(int(r["id"]), str(r["name"]), structure_id) for r in rows]


@dataclass(frozen=True)
class WalletChoice:
    wallet_id: int
    name: str


async def family_wallets(family_id: int) -> list[WalletChoice]:
    rows = await (
        Wallet.select(Wallet.id, Wallet.wallet_type.name, Wallet.wallet_type.position)
        .where(Wallet.family == family_id)
        .output(nested=False)
    )
    rows.sort(key=lambda r: (r["wallet_type.position"], r["wallet_type.name"], r["id"]))
    return [WalletChoice(int(r["id"]), str(r["wallet_type.name"])) for r in rows]


# --- monthly statement -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementPaper:
    letterhead: Letterhead
    family: FamilyHeader
    wallet_name: str
    month: Month
    statement: Statement
    issued_on: date


async def statement_paper(family_id: int, wallet_id: int, month: Month) -> StatementPaper:
    """The "relevé de compte" of one wallet of the family for one month."""
    family = await _family(family_id)
    wallets = {w.wallet_id: w for w in await family_wallets(family_id)}
    if wallet_id not in wallets:
        raise NotFound(wallet_id)
    head = await letterhead(family.structure_id)
    lines = await _lines(
        (LedgerEntry.family == family_id)
        & (LedgerEntry.wallet == wallet_id)
        & (LedgerEntry.entry_date <= month.last_day)
    )
    return StatementPaper(
        head,
        family,
        wallets[wallet_id].name,
        month,
        rules.statement(lines, month.first_day, month.last_day),
        clock.local_today(head.timezone),
    )


# --- receipts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptPaper:
    letterhead: Letterhead
    family: FamilyHeader
    wallet_name: str
    number: str
    line: LedgerLine
    mode_label: str
    issued_on: date


async def receipt_paper(family_id: int, entry_id: int) -> ReceiptPaper:
    """The receipt of one payment (a ledger credit with a payment mode) of the family."""
    family = await _family(family_id)
    found = await _lines(
        (LedgerEntry.id == entry_id)
        & (LedgerEntry.family == family_id)
        & LedgerEntry.payment_mode.is_not_null()
        & (LedgerEntry.amount_cents > 0)
    )
    if not found:
        raise NotFound(entry_id)
    line = found[0]
    wallet = (
        await LedgerEntry.select(LedgerEntry.wallet._.wallet_type._.name)
        .where(LedgerEntry.id == entry_id)
        .output(nested=False)
        .first()
    )
    head = await letterhead(family.structure_id)
    return ReceiptPaper(
        head,
        family,
        str(wallet["wallet.wallet_type.name"]) if wallet else "",
        rules.receipt_number(line.entry_id, line.day),
        line,
        PAYMENT_MODES.get(line.payment_mode or "", line.payment_mode or ""),
        clock.local_today(head.timezone),
    )


# --- tax certificate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxPaper:
    letterhead: Letterhead
    family: FamilyHeader
    certificate: TaxCertificate
    issued_on: date


async def _categories(structure_id: int) -> dict[int, Category]:
    return {a.activity_id: a.category for a in await activity_categories(structure_id)}


async def _children(family_ids: Sequence[int]) -> dict[int, list[rules.Child]]:
    rows = await Person.select(
        Person.id, Person.family, Person.first_name, Person.last_name, Person.birth_date
    ).where(Person.family.is_in(list(family_ids) or [0]))
    out: dict[int, list[rules.Child]] = {}
    for r in rows:
        out.setdefault(int(r["family"]), []).append(
            rules.Child(
                int(r["id"]),
                f"{r['first_name']} {r['last_name']}",
                clock.as_date(r["birth_date"]) if r["birth_date"] else None,
            )
        )
    return out


async def tax_paper(family_id: int, year: int) -> TaxPaper:
    """The family's "attestation fiscale" for ``year`` (children under 6 on 1 January)."""
    family = await _family(family_id)
    head = await letterhead(family.structure_id)
    children = (await _children([family_id])).get(family_id, [])
    lines = await _lines(
        (LedgerEntry.family == family_id)
        & LedgerEntry.payment_mode.is_null()
        & LedgerEntry.activity.is_not_null()
        & (LedgerEntry.entry_date >= date(year, 1, 1))
        & (LedgerEntry.entry_date <= date(year, 12, 31))
    )
    certificate = rules.tax_certificate(
        year, children, lines, await _categories(family.structure_id)
    )
    return TaxPaper(head, family, certificate, clock.local_today(head.timezone))


async def structure_tax_papers(structure_id: int, year: int) -> list[TaxPaper]:
    """Every family of the structure that has something to certify for ``year``."""
    head = await letterhead(structure_id)
    families = await (
        Family.select(Family.id, Family.name)
        .where(Family.structure == structure_id)
        .order_by(Family.name)
    )
    ids = [int(f["id"]) for f in families]
    children = await _children(ids)
    categories = await _categories(structure_id)
    lines = await _lines(
        LedgerEntry.family.is_in(ids or [0])
        & LedgerEntry.payment_mode.is_null()
        & LedgerEntry.activity.is_not_null()
        & (LedgerEntry.entry_date >= date(year, 1, 1))
        & (LedgerEntry.entry_date <= date(year, 12, 31))
    )
    by_family: dict[int, list[LedgerLine]] = {}
    person_family = {c.person_id: f for f, kids in children.items() for c in kids}
    for line in lines:
        if line.person_id in person_family:
            by_family.setdefault(person_family[line.person_id], []).append(line)
    today = clock.local_today(head.timezone)
    papers = []
    for f in families:
        fid = int(f["id"])
        certificate = rules.tax_certificate(
            year, children.get(fid, []), by_family.get(fid, []), categories
        )
        if not certificate.is_empty:
            papers.append(
                TaxPaper(head, FamilyHeader(fid, str(f["name"]), structure_id), certificate, today)
            )
    return papers


# --- attendance certificate ----------------------------------------------------------------------


@dataclass(frozen=True)
class AttendancePaper:
    letterhead: Letterhead
    family: FamilyHeader
    certificate: AttendanceCertificate
    issued_on: date


@dataclass(frozen=True)
class ChildChoice:
    person_id: int
    name: str


async def family_children(family_id: int) -> list[ChildChoice]:
    rows = await (
        Person.select(Person.id, Person.first_name, Person.last_name)
        .where(Person.family == family_id)
        .order_by(Person.first_name)
    )
    return [ChildChoice(int(r["id"]), f"{r['first_name']} {r['last_name']}") for r in rows]


async def attendance_paper(
    family_id: int, person_id: int, first_day: date, last_day: date
) -> AttendancePaper:
    """The "attestation de présence" of one child of the family over a period."""
    family = await _family(family_id)
    person = (
        await Person.select(Person.id, Person.first_name, Person.last_name, Person.birth_date)
        .where((Person.id == person_id) & (Person.family == family_id))
        .first()
    )
    if person is None:
        raise NotFound(person_id)
    head = await letterhead(family.structure_id)
    today = clock.local_today(head.timezone)
    rules.check_period(first_day, last_day, today)
    until = min(last_day, date.fromordinal(today.toordinal() - 1))
    rows = await (
        Reservation.select(
            Reservation.id,
            Reservation.activity_day.day,
            Reservation.activity_day._.activity._.name,
        )
        .where(
            (Reservation.family == family_id)
            & (Reservation.person == person_id)
            & (Reservation.status == ReservationStatus.ACCEPTED)
            & (Reservation.absent.eq(False))
            & (Reservation.activity_day.day >= first_day)
            & (Reservation.activity_day.day <= until)
        )
        .output(nested=False)
    )
    attended = [
        rules.Attendance(
            int(r["id"]), clock.as_date(r["activity_day.day"]), str(r["activity_day.activity.name"])
        )
        for r in rows
    ]
    charges: dict[int, int] = {}
    ids = [a.reservation_id for a in attended]
    for start in range(0, len(ids), 300):
        for entry in await LedgerEntry.select(
            LedgerEntry.reservation, LedgerEntry.amount_cents
        ).where(
            (LedgerEntry.family == family_id)
            & LedgerEntry.reservation.is_in(ids[start : start + 300])
        ):
            rid = int(entry["reservation"])
            charges[rid] = charges.get(rid, 0) - int(entry["amount_cents"])
    certificate = rules.attendance_certificate(
        f"{person['first_name']} {person['last_name']}",
        clock.as_date(person["birth_date"]) if person["birth_date"] else None,
        first_day,
        last_day,
        attended,
        charges,
    )
    return AttendancePaper(head, family, certificate, today)
