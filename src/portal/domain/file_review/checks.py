"""The family file as staff check it: decisions on documents and changes (the family is
e-mailed through the outbox), work lists, search, and audited reads of health data.

Every function takes the staff member's structure id and filters on it: an id of another
structure is NotFound.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from portal import clock
from portal.db import is_sqlite, write_transaction
from portal.domain.channels.rules import Kind
from portal.domain.family_file import rules
from portal.domain.family_file import service as family_file
from portal.domain.family_file.rules import FileError
from portal.domain.file_review import health_access
from portal.domain.notifications.service import family_addresses, portal_url, render_email
from portal.domain.outbox.service import queue_email
from portal.domain.push import service as push
from portal.domain.reservation_status import ReservationStatus
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import (
    AccountFamily,
    Activity,
    ActivityDay,
    AuditLog,
    ChildFile,
    DocumentType,
    Family,
    FamilyContact,
    FamilyDocument,
    HouseholdAdult,
    PendingChange,
    Person,
    Reservation,
    Structure,
)

NotFound = family_file.NotFound


async def _family_in(structure_id: int, family_id: int) -> Family:
    family = await Family.objects().get(
        (Family.id == family_id) & (Family.structure == structure_id)
    )
    if family is None:
        raise NotFound(family_id)
    return family


async def notify_family(
    family_id: int, key: str, template: str, base_url: str, **context: Any
) -> bool:
    """Queue the family's e-mail and push (to the accounts that chose them for document
    decisions) in the caller's transaction; False when nobody is e-mailed."""
    family = await Family.objects().get(Family.id == family_id)
    structure = await Structure.objects().get(Structure.id == family.structure) if family else None
    email = render_email(
        template,
        family_name=family.name if family else "",
        structure_name=structure.name if structure else "",
        portal_url=portal_url(base_url),
        **context,
    )
    await push.queue_push(
        Kind.DOCUMENT_DECISION,
        family_id,
        key,
        email.subject,
        "Une décision a été prise sur votre dossier famille : consultez-la sur le portail.",
        "/dossier",
    )
    emails = (await family_addresses([family_id], Kind.DOCUMENT_DECISION))[family_id]
    if not emails:
        return False
    return await queue_email(key, emails, email.subject, email.text, email.html)


# --- the whole file, for staff ------------------------------------------------------------


async def file_for_staff(actor: Actor, structure_id: int, family_id: int) -> family_file.FileView:
    """The family's whole file; the read of its health data is audited (a member without
    health access gets it with the health fields blanked, and nothing to audit)."""
    await _family_in(structure_id, family_id)
    view = await family_file.file_view(family_id)
    if not await health_access.has_health_access(actor, structure_id):
        return health_access.without_health(view)
    async with write_transaction():
        await audit.record(
            actor,
            "file.health_view",
            structure_id=structure_id,
            table="family",
            target_id=family_id,
            after={"children": [c.person_id for c in view.children]},
        )
    return view


async def document_for_staff(
    actor: Actor, structure_id: int, documents_dir: Any, document_id: int
) -> family_file.StoredDocument:
    doc = await family_file.structure_document(documents_dir, structure_id, document_id)
    if doc.health and not await health_access.has_health_access(actor, structure_id):
        raise health_access.HealthDenied(health_access.DENIED)
    async with write_transaction():
        await audit.record(
            actor,
            "document.view",
            structure_id=structure_id,
            table="family_document",
            target_id=document_id,
            after={"family": doc.family_id, "type": doc.type_name},
        )
    return doc


# --- decisions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    family_id: int
    emailed: bool


async def decide_document(
    actor: Actor,
    structure_id: int,
    document_id: int,
    *,
    accept: bool,
    reason: str,
    valid_until: date | None,
    base_url: str,
) -> Decision:
    """Validate (with its end date when the type has one) or refuse (with a reason)."""
    reason = rules.refusal_reason(accept, reason)
    now = clock.utcnow()
    async with write_transaction():
        row = await FamilyDocument.objects().get(
            (FamilyDocument.id == document_id)
            & (FamilyDocument.family._.structure == structure_id)
            & (FamilyDocument.status != "deleted")
        )
        if row is None:
            raise NotFound(document_id)
        doc_type = await DocumentType.objects().get(DocumentType.id == row.document_type)
        assert doc_type is not None
        if rules.tells_health(
            doc_type.health, doc_type.required_when
        ) and not await health_access.has_health_access(actor, structure_id):
            raise health_access.HealthDenied(health_access.DENIED)
        if accept and doc_type.has_end_date and valid_until is None:
            raise FileError(
                f"« {doc_type.name} » : indiquez jusqu'à quand le document est valable."
            )
        status = rules.DocumentStatus.VALID if accept else rules.DocumentStatus.REFUSED
        await FamilyDocument.update(
            {
                FamilyDocument.status: status,
                FamilyDocument.reason: "" if accept else reason,
                FamilyDocument.valid_until: valid_until if accept else None,
                FamilyDocument.decided_at: now,
                FamilyDocument.decided_by: actor.staff_id,
            }
        ).where(FamilyDocument.id == document_id)
        await audit.record(
            actor,
            "document.validate" if accept else "document.refuse",
            structure_id=structure_id,
            table="family_document",
            target_id=document_id,
            before={"status": row.status},
            after={"status": status, "reason": reason, "valid_until": valid_until},
        )
        await family_file.refresh_flag(int(row.family))
        emailed = await notify_family(
            int(row.family),
            f"document-decision:{document_id}:{now.isoformat()}",
            "document_decision",
            base_url,
            document=doc_type.name,
            accepted=accept,
            reason=reason,
            valid_until=valid_until.strftime("%d/%m/%Y") if valid_until else "",
        )
    return Decision(int(row.family), emailed)


def _changes(row: PendingChange) -> dict[str, list[Any]]:
    value = row.changes
    if isinstance(value, str):
        value = json.loads(value or "{}")
    return dict(value) if isinstance(value, dict) else {}


async def decide_change(
    actor: Actor, structure_id: int, change_id: int, *, accept: bool, reason: str, base_url: str
) -> Decision:
    """Apply a parent's health/authorised-adults change, or refuse it with a reason."""
    reason = rules.refusal_reason(accept, reason)
    now = clock.utcnow()
    async with write_transaction():
        row = await PendingChange.objects().get(
            (PendingChange.id == change_id)
            & (PendingChange.family._.structure == structure_id)
            & (PendingChange.status == rules.ChangeStatus.PENDING)
        )
        if row is None:
            raise NotFound(change_id)
        changes = _changes(row)
        if accept:
            values: dict[Any, Any] = {}
            for name, (_, after) in changes.items():
                if name not in rules.VALIDATED_FIELDS:
                    continue
                if name in rules.DATE_FIELDS:
                    after = date.fromisoformat(after) if after else None
                values[name] = after
            await ChildFile.insert(ChildFile(person=row.person, updated_at=now)).on_conflict(
                target=ChildFile.person, action="DO NOTHING"
            )
            values["updated_at"] = now
            await ChildFile.update(values).where(ChildFile.person == row.person)
        await PendingChange.update(
            {
                PendingChange.status: rules.ChangeStatus.VALIDATED
                if accept
                else rules.ChangeStatus.REFUSED,
                PendingChange.reason: "" if accept else reason,
                PendingChange.decided_at: now,
                PendingChange.decided_by: actor.staff_id,
            }
        ).where(PendingChange.id == change_id)
        await audit.record(
            actor,
            "file.change_validate" if accept else "file.change_refuse",
            structure_id=structure_id,
            table="child_file",
            target_id=int(row.person),
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()} | ({} if accept else {"motif": reason}),
        )
        await family_file.refresh_flag(int(row.family))
        person = await Person.objects().get(Person.id == row.person)
        emailed = await notify_family(
            int(row.family),
            f"file-change:{change_id}",
            "file_change_decision",
            base_url,
            first_name=person.first_name if person else "",
            accepted=accept,
            reason=reason,
            lines=rules.describe_changes(changes),
        )
    return Decision(int(row.family), emailed)


# --- work lists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IncompleteRow:
    family_id: int
    family_name: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class DocumentRow:
    id: int
    family_id: int
    family_name: str
    person_name: str
    type_name: str
    filename: str
    status: str
    uploaded_at: datetime
    valid_until: date | None
    has_end_date: bool
    health: bool = False  # of a health type (health_access)

    def sealed(self) -> DocumentRow:
        """The row as staff without health access see it: of a health type, neither its
        type's name, nor its child, nor its file's name (« PAI (Paolo) » would tell them
        the child's condition)."""
        if not self.health:
            return self
        return replace(self, type_name=rules.HEALTH_DOCUMENT, person_name="", filename="")


@dataclass(frozen=True)
class ChangeRow:
    id: int
    family_id: int
    family_name: str
    person_name: str
    created_at: datetime
    lines: list[tuple[str, str, str]]


@dataclass(frozen=True)
class WorkLists:
    incomplete: list[IncompleteRow]
    to_check: list[DocumentRow]
    expiring: list[DocumentRow]
    changes: list[ChangeRow]


def month_end(day: date) -> date:
    first_next = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_next - timedelta(days=1)


async def _documents(where: Any) -> list[DocumentRow]:
    rows = await (
        FamilyDocument.select(
            FamilyDocument.id,
            FamilyDocument.family,
            FamilyDocument.family._.name,
            FamilyDocument.person._.first_name,
            FamilyDocument.document_type._.name,
            FamilyDocument.document_type._.has_end_date,
            FamilyDocument.document_type._.health,
            FamilyDocument.document_type._.required_when,
            FamilyDocument.filename,
            FamilyDocument.status,
            FamilyDocument.uploaded_at,
            FamilyDocument.valid_until,
        )
        .where(where)
        .order_by(FamilyDocument.uploaded_at)
        .output(nested=False)
    )
    return [
        DocumentRow(
            int(r["id"]),
            int(r["family"]),
            str(r["family.name"]),
            str(r["person.first_name"] or ""),
            str(r["document_type.name"]),
            str(r["filename"]),
            str(r["status"]),
            r["uploaded_at"],
            r["valid_until"],
            bool(r["document_type.has_end_date"]),
            rules.tells_health(
                bool(r["document_type.health"]), str(r["document_type.required_when"] or "")
            ),
        )
        for r in rows
    ]


async def work_lists(structure_id: int, today: date, query: str = "", *, health: bool) -> WorkLists:
    """Files incomplete, documents to check, valid ones ending this month, open changes;
    for a reader without health access (`health` false), health documents sealed and no
    pending changes (they carry health fields)."""
    families = {
        int(r["id"]): str(r["name"])
        for r in await Family.select(Family.id, Family.name)
        .where(Family.structure == structure_id)
        .order_by(Family.name)
    }
    needle = query.strip().casefold()
    if needle:
        families = {k: v for k, v in families.items() if needle in v.casefold()}
    states = await family_file.file_states(structure_id, list(families), today)
    incomplete = [
        IncompleteRow(f, name, tuple((m if health else m.sealed()).text for m in states[f].missing))
        for f, name in families.items()
        if f in states and not states[f].complete
    ]
    in_structure = FamilyDocument.family._.structure == structure_id
    ids = list(families) or [0]
    to_check = await _documents(
        in_structure
        & (FamilyDocument.status == rules.DocumentStatus.PENDING)
        & FamilyDocument.family.is_in(ids)
    )
    expiring = await _documents(
        in_structure
        & (FamilyDocument.status == "valid")
        & (FamilyDocument.valid_until >= today.replace(day=1))
        & (FamilyDocument.valid_until <= month_end(today))
        & FamilyDocument.family.is_in(ids)
    )
    changes = [
        ChangeRow(
            int(r["id"]),
            int(r["family"]),
            str(r["family.name"]),
            str(r["person.first_name"]),
            r["created_at"],
            rules.describe_changes(
                json.loads(r["changes"]) if isinstance(r["changes"], str) else r["changes"]
            ),
        )
        for r in await PendingChange.select(
            PendingChange.id,
            PendingChange.family,
            PendingChange.family._.name,
            PendingChange.person._.first_name,
            PendingChange.created_at,
            PendingChange.changes,
        )
        .where(
            (PendingChange.family._.structure == structure_id)
            & (PendingChange.status == rules.ChangeStatus.PENDING)
            & PendingChange.family.is_in(ids)
        )
        .order_by(PendingChange.created_at)
        .output(nested=False)
    ]
    if not health:
        to_check = [row.sealed() for row in to_check]
        expiring = [row.sealed() for row in expiring]
        changes = []
    return WorkLists(incomplete, to_check, expiring, changes)


async def record_changes_view(
    actor: Actor, structure_id: int, changes: list[ChangeRow], *, export: str = ""
) -> None:
    """Audit a read of the pending-changes list: its lines carry health fields (allergies,
    diet, PAI) of the children listed."""
    if not changes:
        return
    async with write_transaction():
        await audit.record(
            actor,
            "file.changes_export" if export else "file.changes_view",
            structure_id=structure_id,
            table="pending_change",
            after={
                "changes": [c.id for c in changes],
                "families": sorted({c.family_id for c in changes}),
                **({"format": export} if export else {}),
            },
        )


async def family_documents(structure_id: int, family_id: int, *, health: bool) -> list[DocumentRow]:
    """The family's documents; of a health type sealed for a reader without health access."""
    await _family_in(structure_id, family_id)
    rows = await _documents(
        (FamilyDocument.family == family_id) & (FamilyDocument.status != "deleted")
    )
    return rows if health else [row.sealed() for row in rows]


async def family_changes(structure_id: int, family_id: int) -> list[ChangeRow]:
    lists = await work_lists(structure_id, clock.local_today(clock.DEFAULT_TIMEZONE), health=True)
    return [c for c in lists.changes if c.family_id == family_id]


@dataclass(frozen=True)
class HistoryEntry:
    """One audit entry about a family's file, as its history lists it."""

    created_at: datetime
    staff_login: str
    action: str


async def history(structure_id: int, family_id: int) -> list[HistoryEntry]:
    """The audit entries about this family's file (documents, changes, views)."""
    await _family_in(structure_id, family_id)
    people = [
        int(p["id"]) for p in await Person.select(Person.id).where(Person.family == family_id)
    ]
    docs = [
        int(d["id"])
        for d in await FamilyDocument.select(FamilyDocument.id).where(
            FamilyDocument.family == family_id
        )
    ]
    where = (AuditLog.structure == structure_id) & (
        ((AuditLog.target_table == "family") & (AuditLog.target_id == family_id))
        | ((AuditLog.target_table == "child_file") & AuditLog.target_id.is_in(people or [0]))
        | ((AuditLog.target_table == "family_document") & AuditLog.target_id.is_in(docs or [0]))
    )
    rows = await (
        AuditLog.select(AuditLog.created_at, AuditLog.staff_login, AuditLog.action)
        .where(where)
        .order_by(AuditLog.id, ascending=False)
        .limit(100)
    )
    return [HistoryEntry(r["created_at"], str(r["staff_login"]), str(r["action"])) for r in rows]


# --- search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    family_id: int
    family_name: str
    why: str


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


def _like(column: Any, needle: str) -> Any:
    pattern = f"%{needle}%"
    return column.like(pattern) if is_sqlite() else column.ilike(pattern)


async def search(structure_id: int, query: str, limit: int = 50) -> list[SearchHit]:
    """Families of the structure matching a family, child or adult name, a login, an
    e-mail or a phone number."""
    needle = " ".join(query.split())[:60]
    if len(needle) < 2:
        return []
    in_structure = Family.structure == structure_id
    hits: dict[int, SearchHit] = {}

    def add(rows: Sequence[Mapping[str, Any]], key: str, name_key: str, why: str) -> None:
        for r in rows:
            family_id = int(r[key])
            if family_id not in hits:
                hits[family_id] = SearchHit(family_id, str(r[name_key]), why)

    family_rows = await Family.select(Family.id, Family.name).where(
        in_structure & _like(Family.name, needle)
    )
    add(family_rows, "id", "name", "famille")
    person_rows = await (
        Person.select(Person.family, Person.family._.name, Person.first_name, Person.last_name)
        .where(
            (Person.family._.structure == structure_id)
            & (_like(Person.first_name, needle) | _like(Person.last_name, needle))
        )
        .output(nested=False)
    )
    add(person_rows, "family", "family.name", "enfant")
    account_rows = await (
        AccountFamily.select(AccountFamily.family, AccountFamily.family._.name)
        .where(
            (AccountFamily.family._.structure == structure_id)
            & (
                _like(AccountFamily.account._.login, needle)
                | _like(AccountFamily.account._.emails, needle)
            )
        )
        .output(nested=False)
    )
    add(account_rows, "family", "family.name", "identifiant ou e-mail")
    digits = "".join(ch for ch in needle if ch.isdigit())
    if len(digits) >= 4:
        contacts = await (
            FamilyContact.select(
                FamilyContact.family,
                FamilyContact.family._.name,
                FamilyContact.phone_home,
                FamilyContact.phone_mobile,
                FamilyContact.phone_work,
            )
            .where(FamilyContact.family._.structure == structure_id)
            .output(nested=False)
        )
        add(
            [
                c
                for c in contacts
                if any(
                    digits in "".join(ch for ch in str(c[k]) if ch.isdigit())
                    for k in ("phone_home", "phone_mobile", "phone_work")
                )
            ],
            "family", "family.name", "téléphone",
        )  # fmt: skip
    adults = await (
        HouseholdAdult.select(
            HouseholdAdult.family,
            HouseholdAdult.family._.name,
            HouseholdAdult.phone,
            HouseholdAdult.email,
            HouseholdAdult.first_name,
            HouseholdAdult.last_name,
        )
        .where(HouseholdAdult.family._.structure == structure_id)
        .output(nested=False)
    )
    folded = needle.casefold()
    add(
        [
            a
            for a in adults
            if folded in f"{a['first_name']} {a['last_name']} {a['email']}".casefold()
            or (len(digits) >= 4 and digits in _digits(a["phone"]))
        ],
        "family", "family.name", "adulte du foyer",
    )  # fmt: skip
    return sorted(hits.values(), key=lambda h: h.family_name)[:limit]


# --- kitchen and leaders ------------------------------------------------------------------


@dataclass(frozen=True)
class HealthRow:
    person_id: int
    family_id: int
    name: str
    allergies: str
    diet: str
    pai: bool
    pai_end: date | None
    disability: bool = False
    disability_end: date | None = None


async def health_list(
    actor: Actor, structure_id: int, activity_id: int, day: date
) -> tuple[str, list[HealthRow]]:
    """Children booked on that activity and day with an allergy, a diet, a PAI or a
    disability (audited)."""
    activity = await Activity.objects().get(
        (Activity.id == activity_id) & (Activity.structure == structure_id)
    )
    if activity is None:
        raise NotFound(activity_id)
    booked = await (
        Reservation.select(Reservation.person)
        .where(
            (Reservation.activity_day._.activity == activity_id)
            & (Reservation.activity_day._.day == day)
            & (Reservation.status == ReservationStatus.ACCEPTED)
        )
        .output(nested=False)
    )
    person_ids = [int(r["person"]) for r in booked]
    rows: list[HealthRow] = []
    if person_ids:
        for f in await (
            ChildFile.select(
                ChildFile.person,
                ChildFile.person._.family,
                ChildFile.person._.first_name,
                ChildFile.person._.last_name,
                ChildFile.allergies,
                ChildFile.diet,
                ChildFile.pai,
                ChildFile.pai_end,
                ChildFile.disability,
                ChildFile.disability_end,
            )
            .where(ChildFile.person.is_in(person_ids))
            .output(nested=False)
        ):
            if f["allergies"] or f["diet"] or f["pai"] or f["disability"]:
                rows.append(
                    HealthRow(
                        int(f["person"]),
                        int(f["person.family"]),
                        f"{f['person.last_name']} {f['person.first_name']}",
                        str(f["allergies"]),
                        # No diet is a blank cell: the kitchen scans for what to change.
                        rules.DIETS.get(str(f["diet"]), "") if f["diet"] else "",
                        bool(f["pai"]),
                        f["pai_end"],
                        bool(f["disability"]),
                        f["disability_end"],
                    )
                )
    rows.sort(key=lambda r: r.name)
    async with write_transaction():
        await audit.record(
            actor,
            "file.health_list",
            structure_id=structure_id,
            table="activity_day",
            target_id=activity_id,
            after={"day": day, "children": [r.person_id for r in rows]},
        )
    return activity.name, rows


async def activities(structure_id: int) -> list[tuple[int, str]]:
    return [
        (int(r["id"]), str(r["name"]))
        for r in await Activity.select(Activity.id, Activity.name)
        .where(Activity.structure == structure_id)
        .order_by(Activity.position)
        .order_by(Activity.id)
    ]


async def open_days(activity_id: int, around: date) -> list[date]:
    rows = await ActivityDay.select(ActivityDay.day).where(
        (ActivityDay.activity == activity_id)
        & (ActivityDay.day >= around - timedelta(days=7))
        & (ActivityDay.day <= around + timedelta(days=21))
    )
    return sorted({r["day"] for r in rows})


async def account_logins(family_id: int) -> list[str]:
    return [
        str(r["account.login"])
        for r in await AccountFamily.select(AccountFamily.account._.login)
        .where(AccountFamily.family == family_id)
        .output(nested=False)
    ]


# --- staff edits ----------------------------------------------------------------------------


async def staff_update_contact(
    actor: Actor, structure_id: int, family_id: int, data: Mapping[str, Any]
) -> list[str]:
    """Address, phones and the proof that the parents work, typed by staff (effective at
    once, audited)."""
    await _family_in(structure_id, family_id)
    values, errors = family_file.parse_staff_contact(data)
    if errors:
        return errors
    before_row = await FamilyContact.objects().get(FamilyContact.family == family_id)
    before = {k: getattr(before_row, k) for k in values} if before_row else {}
    async with write_transaction():
        await family_file.upsert_contact(family_id, values)
        old, new = audit.changed(before, values)
        await audit.record(
            actor, "file.contact_edit", structure_id=structure_id, table="family",
            target_id=family_id, before=old, after=new,
        )  # fmt: skip
        await family_file.refresh_flag(family_id)
    return []


async def staff_update_child(
    actor: Actor, structure_id: int, family_id: int, person_id: int, data: Mapping[str, Any]
) -> list[str]:
    """Every field of a child's file typed by staff, health included (no validation step:
    staff are the validators), audited field by field."""
    await _family_in(structure_id, family_id)
    person = await Person.objects().get((Person.id == person_id) & (Person.family == family_id))
    if person is None:
        raise NotFound(person_id)
    update, errors = family_file.parse_child(data)
    if errors:
        return errors
    values: dict[str, Any] = {**update.direct, **update.validated}
    for name in rules.DATE_FIELDS:
        if values.get(name):
            values[name] = date.fromisoformat(str(values[name]))
    existing = await ChildFile.objects().get(ChildFile.person == person_id)
    before = {k: getattr(existing, k) for k in values} if existing else {}
    async with write_transaction():
        await ChildFile.insert(ChildFile(person=person_id, updated_at=clock.utcnow())).on_conflict(
            target=ChildFile.person, action="DO NOTHING"
        )
        await ChildFile.update(dict[Any, Any]({**values, "updated_at": clock.utcnow()})).where(
            ChildFile.person == person_id
        )
        old, new = audit.changed(before, values)
        await audit.record(
            actor, "file.child_edit", structure_id=structure_id, table="child_file",
            target_id=person_id, before=old, after=new,
        )  # fmt: skip
        await family_file.refresh_flag(family_id)
    return []
