"""Personal data rights on the family file (RGPD): the parent's export (art. 15/20) and
the retention rule that erases documents and health data after the structure's period.

The export is a ZIP: `dossier.json` (the whole file, bookings, ledger), CSV files of the
bookings and of the account movements, and every document the family sent.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from portal import clock
from portal.db import write_transaction
from portal.domain import criteria_values
from portal.domain.exports import tabular
from portal.domain.family_file import rules
from portal.domain.family_file import service as family_file
from portal.tables import (
    ChildFile,
    Family,
    FamilyDocument,
    FileSettings,
    LedgerEntry,
    PendingChange,
    PeriodRequest,
    Person,
    Reservation,
)


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


async def _bookings(family_id: int) -> list[dict[str, Any]]:
    rows = await (
        Reservation.select(
            Reservation.activity_day._.day,
            Reservation.activity_day._.activity._.name,
            Reservation.person._.first_name,
            Reservation.status,
            Reservation.arrival,
            Reservation.departure,
            Reservation.absent,
            Reservation.confirmed_at,
        )
        .where(Reservation.family == family_id)
        .order_by(Reservation.id)
        .output(nested=False)
    )
    return [
        {
            "jour": r["activity_day.day"],
            "activite": r["activity_day.activity.name"],
            "enfant": r["person.first_name"],
            "etat": r["status"],
            "arrivee": r["arrival"],
            "depart": r["departure"],
            "absent": r["absent"],
            "demandee_le": r["confirmed_at"],
        }
        for r in rows
    ]


async def _ledger(family_id: int) -> list[dict[str, Any]]:
    rows = await (
        LedgerEntry.select(
            LedgerEntry.entry_date,
            LedgerEntry.kind,
            LedgerEntry.label,
            LedgerEntry.amount_cents,
            LedgerEntry.payment_mode,
            LedgerEntry.piece_number,
            LedgerEntry.person._.first_name,
        )
        .where(LedgerEntry.family == family_id)
        .order_by(LedgerEntry.entry_date)
        .order_by(LedgerEntry.id)
        .output(nested=False)
    )
    return [
        {
            "date": r["entry_date"],
            "type": "consommation" if r["kind"] == "debit" else "règlement",
            "libelle": r["label"],
            "montant_centimes": int(r["amount_cents"]),
            "mode": r["payment_mode"],
            "piece": r["piece_number"],
            "enfant": r["person.first_name"],
        }
        for r in rows
    ]


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes


async def family_export(family_id: int, documents_dir: Path) -> Export:
    """The family's data as a ZIP (built in a worker thread: it may be large)."""
    view = await family_file.file_view(family_id)
    bookings = await _bookings(family_id)
    ledger = await _ledger(family_id)
    documents = await (
        FamilyDocument.select(
            FamilyDocument.id,
            FamilyDocument.filename,
            FamilyDocument.storage_key,
            FamilyDocument.status,
            FamilyDocument.valid_until,
            FamilyDocument.uploaded_at,
            FamilyDocument.document_type._.name,
        )
        .where((FamilyDocument.family == family_id) & (FamilyDocument.status != "deleted"))
        .output(nested=False)
    )
    data = {
        "exporte_le": clock.utcnow(),
        "famille": {
            k: v for k, v in asdict(view).items() if k not in ("slots", "state", "document_types")
        },
        "dossier_complet": view.state.complete,
        "manque": [m.text for m in view.state.missing],
        "reservations": bookings,
        "compte": ledger,
        "documents": [
            {
                "type": d["document_type.name"],
                "fichier": f"documents/{d['id']}-{d['filename']}",
                "etat": d["status"],
                "valable_jusqu_au": d["valid_until"],
                "envoye_le": d["uploaded_at"],
            }
            for d in documents
        ],
    }
    bookings_csv = tabular.csv_text(
        tabular.Table(
            ("Jour", "Activité", "Enfant", "État", "Arrivée", "Départ"),
            [
                (b["jour"], b["activite"], b["enfant"], b["etat"], b["arrivee"], b["depart"])
                for b in bookings
            ],
        )
    )
    ledger_csv = tabular.csv_text(
        tabular.Table(
            ("Date", "Type", "Libellé", "Montant", "Mode", "N° de pièce", "Enfant"),
            [
                (
                    e["date"], e["type"], e["libelle"], tabular.Amount(e["montant_centimes"]),
                    e["mode"], e["piece"], e["enfant"],
                )
                for e in ledger
            ],
        )
    )  # fmt: skip
    files = [
        (
            f"documents/{d['id']}-{d['filename']}",
            family_file.document_path(documents_dir, str(d["storage_key"])),
        )
        for d in documents
    ]

    def build() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "dossier.json", json.dumps(_jsonable(data), ensure_ascii=False, indent=2)
            )
            archive.writestr("reservations.csv", bookings_csv.encode("utf-8"))
            archive.writestr("compte.csv", ledger_csv.encode("utf-8"))
            for name, path in files:
                if path.is_file():
                    archive.write(path, name)
        return buffer.getvalue()

    content = await asyncio.to_thread(build)
    stamp = clock.utcnow().strftime("%Y%m%d")
    return Export(f"mes-donnees-{stamp}.zip", content)


# --- retention ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeOutcome:
    families: int = 0
    documents: int = 0
    children: int = 0


HEALTH_ERASED: dict[Any, Any] = {
    ChildFile.allergies: "",
    ChildFile.diet: "",
    ChildFile.pai: False,
    ChildFile.pai_end: None,
    ChildFile.disability: False,
    ChildFile.disability_end: None,
    ChildFile.doctor: "",
    ChildFile.doctor_phone: "",
    ChildFile.vaccinations_ok: None,
    ChildFile.pickup_adults: [],
    ChildFile.emergency_contacts: [],
}


async def _last_activity(family_id: int) -> date | None:
    days = await (
        Reservation.select(Reservation.activity_day._.day)
        .where(Reservation.family == family_id)
        .order_by(Reservation.activity_day._.day, ascending=False)
        .limit(1)
        .output(nested=False)
    )
    return days[0]["activity_day.day"] if days else None


async def _erase_health_criteria(people: list[int]) -> None:
    """A booking period's request keeps the criteria values it was ranked by (« pai=1 »,
    « disability=1 »): the health ones go with the file's health data."""
    for row in await PeriodRequest.select(PeriodRequest.id, PeriodRequest.criteria_values).where(
        PeriodRequest.person.is_in(people) & (PeriodRequest.criteria_values != "")
    ):
        text = str(row["criteria_values"])
        kept = criteria_values.without(text, rules.HEALTH_FIELDS)
        if kept != text:
            await PeriodRequest.update({PeriodRequest.criteria_values: kept}).where(
                PeriodRequest.id == row["id"]
            )


async def purge_expired(documents_dir: Path, today: date | None = None) -> PurgeOutcome:
    """Erase the documents and health data of families inactive beyond their structure's
    retention period (last booked day, or creation). Idempotent: erased files stay erased."""
    today = today or clock.utcnow().date()
    families = documents = children = 0
    for setting in await FileSettings.objects():
        limit = today - timedelta(days=int(setting.retention_months) * 30)
        for family in await Family.objects().where(Family.structure == setting.structure):
            last = await _last_activity(int(family.id)) or family.created_at.date()
            if last >= limit:
                continue
            people = [int(p["id"]) for p in await Person.select(Person.id).where(
                Person.family == family.id
            )]  # fmt: skip
            docs = await FamilyDocument.objects().where(
                (FamilyDocument.family == family.id) & (FamilyDocument.status != "deleted")
            )
            touched = await ChildFile.count().where(
                ChildFile.person.is_in(people or [0]) & ChildFile.anonymised_at.is_null()
            )
            if not docs and not touched:
                continue
            now = clock.utcnow()
            async with write_transaction():
                if docs:
                    await FamilyDocument.update(
                        {FamilyDocument.status: "deleted", FamilyDocument.filename: "supprimé"}
                    ).where(FamilyDocument.id.is_in([int(d.id) for d in docs]))
                if people:
                    await ChildFile.update({**HEALTH_ERASED, ChildFile.anonymised_at: now}).where(
                        ChildFile.person.is_in(people) & ChildFile.anonymised_at.is_null()
                    )
                    await PendingChange.delete().where(PendingChange.person.is_in(people))
                    await _erase_health_criteria(people)
                await family_file.refresh_flag(int(family.id))
            families += 1
            documents += len(docs)
            children += touched
    # Files go after the rows say so; every run sweeps the files of every erased row, so a
    # crash between the commit and the unlink leaves nothing behind for long.
    for row in await FamilyDocument.select(FamilyDocument.storage_key).where(
        FamilyDocument.status == "deleted"
    ):
        family_file.document_path(documents_dir, str(row["storage_key"])).unlink(missing_ok=True)
    return PurgeOutcome(families, documents, children)
