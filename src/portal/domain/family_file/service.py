"""The family file as parents keep it: read it, edit it, upload documents, and the
derived "dossier complet" that booking eligibility uses."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from portal import clock, db
from portal.db import write_transaction
from portal.domain import errors
from portal.domain.accounts.rules import split_emails
from portal.domain.family_file import rules
from portal.domain.family_file.rules import FileError
from portal.tables import (
    AbsenceDeclaration,
    AccountFamily,
    ChildFile,
    DocumentType,
    Family,
    FamilyContact,
    FamilyDocument,
    FileSettings,
    HouseholdAdult,
    MessageAttachment,
    PendingChange,
    Person,
    Structure,
)


class NotFound(errors.NotFound):
    """Not there, or not this family's: the page answers 404."""


# --- loading ---------------------------------------------------------------------------


async def file_rules(structure_id: int) -> rules.FileRules:
    setting = await FileSettings.objects().get(FileSettings.structure == structure_id)
    types = await (
        DocumentType.objects()
        .where(DocumentType.structure == structure_id)
        .order_by(DocumentType.position)
        .order_by(DocumentType.id)
    )
    return rules.FileRules(
        required_fields=tuple(rules.unique_codes(_json_list(setting.required_fields)))
        if setting
        else (),
        document_types=tuple(_doc_type(t) for t in types),
    )


def _doc_type(row: DocumentType) -> rules.DocType:
    return rules.DocType(
        int(row.id),
        str(row.code),
        str(row.name),
        bool(row.per_child),
        bool(row.required),
        str(row.required_when or ""),
        bool(row.has_end_date),
        bool(row.health),
    )


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value or "[]")
        except ValueError:
            return []
    return list(value) if isinstance(value, list) else []


def _doc(row: Mapping[str, Any]) -> rules.Doc:
    return rules.Doc(
        id=int(row["id"]),
        type_id=int(row["document_type"]),
        person_id=int(row["person"]) if row["person"] else None,
        status=str(row["status"]),
        valid_until=row["valid_until"],
        uploaded_at=row["uploaded_at"],
        reason=str(row["reason"] or ""),
        filename=str(row["filename"]),
    )


async def facts_of(family_ids: Sequence[int]) -> dict[int, rules.FamilyFacts]:
    """The facts the completeness rules look at, for several families in a few queries."""
    ids = list(family_ids)
    if not ids:
        return {}
    contacts = {
        int(c["family"]): c
        for c in await FamilyContact.select().where(FamilyContact.family.is_in(ids))
    }
    adults: dict[int, int] = {}
    for a in await HouseholdAdult.select(HouseholdAdult.family).where(
        HouseholdAdult.family.is_in(ids)
    ):
        adults[int(a["family"])] = adults.get(int(a["family"]), 0) + 1
    people = await (
        Person.select(Person.id, Person.family, Person.first_name)
        .where(Person.family.is_in(ids))
        .order_by(Person.birth_date)
        .order_by(Person.id)
    )
    files = {}
    if people:
        files = {
            int(f["person"]): f
            for f in await ChildFile.select().where(
                ChildFile.person.is_in([int(p["id"]) for p in people])
            )
        }
    documents: dict[int, list[rules.Doc]] = {}
    for d in await (
        FamilyDocument.select()
        .where(FamilyDocument.family.is_in(ids) & (FamilyDocument.status != "deleted"))
        .order_by(FamilyDocument.uploaded_at)
        .order_by(FamilyDocument.id)
    ):
        documents.setdefault(int(d["family"]), []).append(_doc(d))
    children: dict[int, list[rules.ChildFacts]] = {}
    for p in people:
        f = files.get(int(p["id"]))
        children.setdefault(int(p["family"]), []).append(
            rules.ChildFacts(
                person_id=int(p["id"]),
                first_name=str(p["first_name"]),
                school=str(f["school"]) if f else "",
                doctor=str(f["doctor"]) if f else "",
                vaccinations_ok=f["vaccinations_ok"] if f else None,
                image_rights=f["image_rights"] if f else None,
                may_leave_alone=f["may_leave_alone"] if f else None,
                pai=bool(f["pai"]) if f else False,
                disability=bool(f["disability"]) if f else False,
                pickup_count=len(_json_list(f["pickup_adults"])) if f else 0,
                emergency_count=len(_json_list(f["emergency_contacts"])) if f else 0,
            )
        )
    result = {}
    for family_id in ids:
        c = contacts.get(family_id)
        result[family_id] = rules.FamilyFacts(
            address=" ".join(str(c[k]) for k in ("address", "postcode", "city")).strip()
            if c and str(c["address"]).strip()
            else "",
            phones=tuple(str(c[k]) for k in ("phone_home", "phone_mobile", "phone_work"))
            if c
            else (),
            adults=adults.get(family_id, 0),
            children=tuple(children.get(family_id, [])),
            documents=tuple(documents.get(family_id, [])),
        )
    return result


@dataclass(frozen=True)
class FileState:
    """The derived "dossier complet": what is missing today (empty = complete)."""

    complete: bool
    missing: tuple[rules.Missing, ...] = ()
    derived: bool = True  # False: the structure has no file rules, the staff flag counts


async def file_states(
    structure_id: int, family_ids: Sequence[int], today: date
) -> dict[int, FileState]:
    """The file state of several families of one structure."""
    return await file_states_under(await file_rules(structure_id), family_ids, today)


async def file_states_under(
    file_rules_: rules.FileRules, family_ids: Sequence[int], today: date
) -> dict[int, FileState]:
    """The file state of several families under their structure's rules (read by the
    caller: the booking scope keeps them per structure)."""
    if file_rules_.empty:
        flags = {
            int(r["id"]): bool(r["file_complete"])
            for r in await Family.select(Family.id, Family.file_complete).where(
                Family.id.is_in(list(family_ids) or [0])
            )
        }
        return {f: FileState(flags.get(f, True), (), derived=False) for f in family_ids}
    facts = await facts_of(family_ids)
    states = {}
    for family_id, fact in facts.items():
        missing = tuple(rules.missing_items(file_rules_, fact, today))
        states[family_id] = FileState(not missing, missing)
    return states


async def file_state(family_id: int, today: date | None = None) -> FileState:
    """The family's file state today (in its structure's time zone)."""
    row = await (
        Family.select(Family.structure.id, Family.structure.timezone)
        .where(Family.id == family_id)
        .output(nested=False)
        .first()
    )
    if row is None:
        raise NotFound(family_id)
    today = today or clock.local_today(str(row["structure.timezone"]))
    return (await file_states(int(row["structure.id"]), [family_id], today))[family_id]


async def refresh_flag(family_id: int) -> None:
    """Write the derived state into Family.file_complete (kept for lists and compatibility;
    touching the family row also tells cached booking scopes that the file changed)."""
    state = await file_state(family_id)
    if state.derived:
        await Family.update({Family.file_complete: state.complete}).where(Family.id == family_id)
    else:
        await Family.update({Family.file_complete: Family.file_complete}).where(
            Family.id == family_id
        )


# --- the parent's view -----------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    id: int
    created_at: datetime
    lines: list[tuple[str, str, str]]
    status: str
    reason: str


@dataclass
class ChildView:
    person_id: int
    first_name: str
    last_name: str
    birth_date: date | None
    school: str = ""
    class_name: str = ""
    allergies: str = ""
    diet: str = ""
    pai: bool = False
    pai_end: date | None = None
    disability: bool = False
    disability_end: date | None = None
    doctor: str = ""
    doctor_phone: str = ""
    vaccinations_ok: bool | None = None
    image_rights: bool | None = None
    may_leave_alone: bool | None = None
    pickup_adults: list[dict[str, str]] = field(default_factory=list)
    emergency_contacts: list[dict[str, str]] = field(default_factory=list)
    pending: Change | None = None
    last_refused: Change | None = None

    @property
    def diet_label(self) -> str:
        return rules.DIETS.get(self.diet, self.diet)

    def health_values(self) -> dict[str, Any]:
        return {
            "allergies": self.allergies,
            "diet": self.diet,
            "pai": self.pai,
            "pai_end": self.pai_end.isoformat() if self.pai_end else None,
            "disability": self.disability,
            "disability_end": self.disability_end.isoformat() if self.disability_end else None,
            "doctor": self.doctor,
            "doctor_phone": self.doctor_phone,
            "vaccinations_ok": self.vaccinations_ok,
            "pickup_adults": self.pickup_adults,
        }


@dataclass(frozen=True)
class AdultView:
    id: int
    first_name: str
    last_name: str
    link: str
    phone: str
    email: str
    has_login: bool


@dataclass
class FileView:
    family_id: int
    family_name: str
    structure_id: int
    structure_name: str
    tariff_band: str
    quotient_familial: int | None
    tariff_valid_until: date | None
    parents_working_until: date | None  # set by staff only, on an employer certificate
    address: str
    postcode: str
    city: str
    phone_home: str
    phone_mobile: str
    phone_work: str
    emails: list[str]
    adults: list[AdultView]
    children: list[ChildView]
    slots: list[rules.Slot]
    state: FileState
    document_types: list[rules.DocType]
    campaign_deadline: date | None
    campaign_message: str
    confirmed_for: date | None
    confirmed_at: datetime | None
    today: date

    @property
    def parents_working_proven(self) -> bool:
        """The proof that the parents work still runs today (it may have run out)."""
        until = self.parents_working_until
        return rules.in_force(until is not None, until, self.today)

    @property
    def campaign_due(self) -> bool:
        """The yearly update is asked and not answered yet."""
        return (
            self.campaign_deadline is not None
            and self.today <= self.campaign_deadline
            and self.confirmed_for != self.campaign_deadline
        )

    def child(self, person_id: int) -> ChildView:
        for child in self.children:
            if child.person_id == person_id:
                return child
        raise NotFound(person_id)


def _change(row: Mapping[str, Any]) -> Change:
    changes = row["changes"]
    if isinstance(changes, str):
        import json

        changes = json.loads(changes or "{}")
    return Change(
        int(row["id"]),
        row["created_at"],
        rules.describe_changes(changes),
        str(row["status"]),
        str(row["reason"] or ""),
    )


async def children_of(family_id: int) -> list[ChildView]:
    people = await Person.objects().where(Person.family == family_id).order_by(Person.birth_date)
    ids = [p.id for p in people]
    files = (
        {int(f.person): f for f in await ChildFile.objects().where(ChildFile.person.is_in(ids))}
        if ids
        else {}
    )
    changes: dict[int, list[Mapping[str, Any]]] = {}
    if ids:
        for c in await (
            PendingChange.select().where(PendingChange.person.is_in(ids)).order_by(PendingChange.id)
        ):
            changes.setdefault(int(c["person"]), []).append(c)
    children = []
    for p in people:
        f = files.get(p.id)
        view = ChildView(p.id, p.first_name, p.last_name, p.birth_date)
        if f is not None:
            view.school, view.class_name = f.school, f.class_name
            view.allergies, view.diet, view.pai, view.pai_end = (
                f.allergies, f.diet, f.pai, f.pai_end,
            )  # fmt: skip
            view.disability, view.disability_end = f.disability, f.disability_end
            view.doctor, view.doctor_phone = f.doctor, f.doctor_phone
            view.vaccinations_ok, view.image_rights = f.vaccinations_ok, f.image_rights
            view.may_leave_alone = f.may_leave_alone
            view.pickup_adults = _json_list(f.pickup_adults)
            view.emergency_contacts = _json_list(f.emergency_contacts)
        own = changes.get(p.id, [])
        pending = [c for c in own if c["status"] == rules.ChangeStatus.PENDING]
        view.pending = _change(pending[-1]) if pending else None
        refused = [c for c in own if c["status"] == rules.ChangeStatus.REFUSED]
        if refused and not pending and refused[-1]["id"] == own[-1]["id"]:
            view.last_refused = _change(refused[-1])
        children.append(view)
    return children


async def file_view(family_id: int) -> FileView:
    """Everything "Mon dossier" shows, for the family (its own data only)."""
    family = await Family.objects().get(Family.id == family_id)
    if family is None:
        raise NotFound(family_id)
    structure = await Structure.objects().get(Structure.id == family.structure)
    assert structure is not None
    today = clock.local_today(structure.timezone)
    contact = await FamilyContact.objects().get(FamilyContact.family == family_id)
    setting = await FileSettings.objects().get(FileSettings.structure == structure.id)
    emails: list[str] = []
    for a in await (
        AccountFamily.select(AccountFamily.account._.emails)
        .where(AccountFamily.family == family_id)
        .output(nested=False)
    ):
        emails += [e for e in split_emails(str(a["account.emails"])) if e not in emails]
    adults = [
        AdultView(a.id, a.first_name, a.last_name, a.link, a.phone, a.email, a.account is not None)
        for a in await HouseholdAdult.objects()
        .where(HouseholdAdult.family == family_id)
        .order_by(HouseholdAdult.position)
        .order_by(HouseholdAdult.id)
    ]
    children = await children_of(family_id)
    file_rules_ = await file_rules(structure.id)
    facts = (await facts_of([family_id]))[family_id]
    state = (await file_states(structure.id, [family_id], today))[family_id]
    return FileView(
        family_id=family_id,
        family_name=family.name,
        structure_id=int(structure.id),
        structure_name=structure.name,
        tariff_band=family.tariff_band,
        quotient_familial=contact.quotient_familial if contact else None,
        tariff_valid_until=contact.tariff_valid_until if contact else None,
        parents_working_until=contact.parents_working_until if contact else None,
        address=contact.address if contact else "",
        postcode=contact.postcode if contact else "",
        city=contact.city if contact else "",
        phone_home=contact.phone_home if contact else "",
        phone_mobile=contact.phone_mobile if contact else "",
        phone_work=contact.phone_work if contact else "",
        emails=emails,
        adults=adults,
        children=children,
        slots=rules.slots(file_rules_, facts, today),
        state=state,
        document_types=list(file_rules_.document_types),
        campaign_deadline=setting.campaign_deadline if setting else None,
        campaign_message=setting.campaign_message if setting else "",
        confirmed_for=contact.confirmed_for if contact else None,
        confirmed_at=contact.confirmed_at if contact else None,
        today=today,
    )


# --- parent edits ----------------------------------------------------------------------


def _columns(values: Mapping[str, Any]) -> dict[Any, Any]:
    """Column names to values, as Piccolo's update() takes them."""
    return dict(values)


def _first(data: Mapping[str, Any], name: str) -> Any:
    value = data.get(name, "")
    if isinstance(value, list):
        return value[0] if value else ""
    return value


def _many(data: Mapping[str, Any], name: str) -> list[Any]:
    value = data.get(name, [])
    if isinstance(value, list):
        return value
    return [value] if value not in (None, "") else []


def parse_contact(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    values = {
        "address": rules.clean_text(_first(data, "adresse"), 300),
        "postcode": rules.clean_text(_first(data, "code_postal"), 10),
        "city": rules.clean_text(_first(data, "ville"), 120),
        "phone_home": rules.clean_phone(
            _first(data, "tel_domicile"), "Téléphone du domicile", errors
        ),
        "phone_mobile": rules.clean_phone(
            _first(data, "tel_portable"), "Téléphone portable", errors
        ),
        "phone_work": rules.clean_phone(
            _first(data, "tel_travail"), "Téléphone professionnel", errors
        ),
    }
    if values["postcode"] and not rules.POSTCODE_RE.match(values["postcode"]):
        errors.append("Code postal : 5 chiffres.")
    return values, errors


def parse_staff_contact(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The contact as staff type it: the parent's fields and the proof that the parents
    work, which gives a priority and so never comes from parse_contact (the parent's form)."""
    values, errors = parse_contact(data)
    # A form without the field (not the file page's) leaves the proof as it is.
    if "activite_parents_jusqu" in data:
        values["parents_working_until"] = rules.parse_date(
            _first(data, "activite_parents_jusqu"),
            "Activité professionnelle des parents",
            errors,
        )
    return values, errors


async def update_contact(family_id: int, data: Mapping[str, Any]) -> list[str]:
    """Address and phones, effective at once."""
    values, errors = parse_contact(data)
    if errors:
        return errors
    async with write_transaction():
        await upsert_contact(family_id, values)
        await refresh_flag(family_id)
    return []


async def upsert_contact(family_id: int, values: Mapping[str, Any]) -> None:
    existing = await FamilyContact.objects().get(FamilyContact.family == family_id)
    now = clock.utcnow()
    if existing is None:
        await FamilyContact.insert(FamilyContact(family=family_id, updated_at=now, **values))
    else:
        await FamilyContact.update(_columns({**values, "updated_at": now})).where(
            FamilyContact.family == family_id
        )


def parse_adult(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    values = {
        "first_name": rules.clean_text(_first(data, "prenom"), 100),
        "last_name": rules.clean_text(_first(data, "nom"), 100),
        "link": rules.clean_text(_first(data, "lien"), 40),
        "phone": rules.clean_phone(_first(data, "telephone"), "Téléphone", errors),
        "email": rules.clean_text(_first(data, "email"), 254),
    }
    if not values["first_name"] or not values["last_name"]:
        errors.append("Indiquez le prénom et le nom de l'adulte.")
    if values["email"] and not rules.EMAIL_RE.match(values["email"]):
        errors.append("Adresse e-mail invalide.")
    return values, errors


async def save_adult(family_id: int, adult_id: int | None, data: Mapping[str, Any]) -> list[str]:
    """Add an adult of the household, or change one of this family's."""
    values, errors = parse_adult(data)
    if errors:
        return errors
    async with write_transaction():
        if adult_id is None:
            count = await HouseholdAdult.count().where(HouseholdAdult.family == family_id)
            if count >= 6:
                return ["Six adultes au plus par foyer."]
            await HouseholdAdult.insert(HouseholdAdult(family=family_id, position=count, **values))
        else:
            updated = await (
                HouseholdAdult.update(_columns(values))
                .where((HouseholdAdult.id == adult_id) & (HouseholdAdult.family == family_id))
                .returning(HouseholdAdult.id)
            )
            if not updated:
                raise NotFound(adult_id)
        await refresh_flag(family_id)
    return []


async def delete_adult(family_id: int, adult_id: int) -> None:
    async with write_transaction():
        deleted = await (
            HouseholdAdult.delete()
            .where((HouseholdAdult.id == adult_id) & (HouseholdAdult.family == family_id))
            .returning(HouseholdAdult.id)
        )
        if not deleted:
            raise NotFound(adult_id)
        await refresh_flag(family_id)


@dataclass(frozen=True)
class ChildUpdate:
    direct: dict[str, Any]  # applied at once
    validated: dict[str, Any]  # goes to staff validation


def _fact_until(
    data: Mapping[str, Any], flag: str, end: str, end_label: str, end_missing: str,
    errors: list[str],
) -> tuple[bool, date | None]:  # fmt: skip
    """A yes/no fact of the child's file and the end of its proof, required with a yes (the
    priorities and the kitchen count the fact only until then)."""
    present = rules.parse_yes_no(_first(data, flag)) is True
    known = len(errors)
    until = rules.parse_date(_first(data, end), end_label, errors)
    if present and until is None and len(errors) == known:
        errors.append(f"{end_label} : {end_missing}")
    return present, until


def parse_child(data: Mapping[str, Any]) -> tuple[ChildUpdate, list[str]]:
    errors: list[str] = []
    diet = str(_first(data, "regime") or "")
    if diet not in rules.DIETS:
        errors.append("Régime alimentaire : choisissez dans la liste.")
        diet = ""
    pai, pai_end = _fact_until(
        data, "pai", "fin_pai", "Fin du PAI", "indiquez la date de fin du PAI.", errors
    )
    disability, disability_end = _fact_until(
        data, "handicap", "fin_handicap", "Fin de la notification MDPH / AEEH",
        "indiquez la date de fin de la notification (elle figure sur le courrier de la MDPH "
        "ou de la CAF).",
        errors,
    )  # fmt: skip
    direct = {
        "school": rules.clean_text(_first(data, "ecole"), 200),
        "class_name": rules.clean_text(_first(data, "classe"), 60),
        "image_rights": rules.parse_yes_no(_first(data, "droit_image")),
        "may_leave_alone": rules.parse_yes_no(_first(data, "part_seul")),
        "emergency_contacts": rules.parse_people(
            _many(data, "urgence_nom"),
            _many(data, "urgence_tel"),
            _many(data, "urgence_lien"),
            "Contacts en cas d'urgence",
            errors,
        ),
    }
    validated = {
        "allergies": str(_first(data, "allergies") or "").strip()[:1000],
        "diet": diet,
        "pai": pai,
        "pai_end": pai_end.isoformat() if pai and pai_end else None,
        "disability": disability,
        "disability_end": disability_end.isoformat() if disability and disability_end else None,
        "doctor": rules.clean_text(_first(data, "medecin"), 200),
        "doctor_phone": rules.clean_phone(
            _first(data, "medecin_tel"), "Téléphone du médecin", errors
        ),
        "vaccinations_ok": rules.parse_yes_no(_first(data, "vaccins")),
        "pickup_adults": rules.parse_people(
            _many(data, "autorise_nom"),
            _many(data, "autorise_tel"),
            _many(data, "autorise_lien"),
            "Adultes autorisés",
            errors,
        ),
    }
    return ChildUpdate(direct, validated), errors


async def _person_of(family_id: int, person_id: int) -> Person:
    person = await Person.objects().get((Person.id == person_id) & (Person.family == family_id))
    if person is None:
        raise NotFound(person_id)
    return person


async def _ensure_child_file(person_id: int) -> None:
    await ChildFile.insert(ChildFile(person=person_id, updated_at=clock.utcnow())).on_conflict(
        target=ChildFile.person, action="DO NOTHING"
    )


@dataclass(frozen=True)
class ChildOutcome:
    errors: list[str]
    pending: bool = False  # a change went to staff validation


async def update_child(
    family_id: int, person_id: int, account_id: int | None, data: Mapping[str, Any]
) -> ChildOutcome:
    """School, authorisations and emergency contacts at once; health and authorised adults
    as a change that staff validate (one open change per child, updated by a new edit)."""
    await _person_of(family_id, person_id)
    update, errors = parse_child(data)
    if errors:
        return ChildOutcome(errors)
    now = clock.utcnow()
    async with write_transaction():
        await _ensure_child_file(person_id)
        await ChildFile.update(_columns({**update.direct, "updated_at": now})).where(
            ChildFile.person == person_id
        )
        current = next(c for c in await children_of(family_id) if c.person_id == person_id)
        wanted = rules.diff(current.health_values(), update.validated)
        open_change = await PendingChange.objects().get(
            (PendingChange.person == person_id)
            & (PendingChange.status == rules.ChangeStatus.PENDING)
        )
        if open_change is not None:
            if wanted:
                await PendingChange.update(
                    {
                        PendingChange.changes: wanted,
                        PendingChange.account: account_id,
                        PendingChange.created_at: now,
                    }
                ).where(PendingChange.id == open_change.id)
            else:  # back to the validated values: nothing left to check
                await PendingChange.update(
                    {
                        PendingChange.status: rules.ChangeStatus.CANCELLED,
                        PendingChange.decided_at: now,
                    }
                ).where(PendingChange.id == open_change.id)
        elif wanted:
            await PendingChange.insert(
                PendingChange(
                    family=family_id,
                    person=person_id,
                    changes=wanted,
                    status=rules.ChangeStatus.PENDING,
                    account=account_id,
                    created_at=now,
                )
            )
        await refresh_flag(family_id)
    return ChildOutcome([], pending=bool(wanted))


async def confirm_campaign(family_id: int) -> bool:
    """The parent confirms the file for this year's campaign; False when none is open."""
    view = await file_view(family_id)
    if not view.campaign_due or view.campaign_deadline is None:
        return False
    async with write_transaction():
        await upsert_contact(
            family_id,
            {"confirmed_for": view.campaign_deadline, "confirmed_at": clock.utcnow()},
        )
    return True


# --- documents -------------------------------------------------------------------------


def document_path(documents_dir: Path, storage_key: str) -> Path:
    return documents_dir / storage_key[:2] / storage_key


def _write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(content)
    tmp.chmod(0o600)
    tmp.replace(path)


async def store_upload(documents_dir: Path, content: bytes) -> str:
    """Write already checked bytes (rules.check_upload) under a new random key, outside
    the web root; returns the key (also used by message attachments)."""
    key = secrets.token_hex(16)
    await asyncio.to_thread(_write_file, document_path(documents_dir, key), content)
    return key


async def check_upload_quota(
    family_id: int, adding_bytes: int, now: datetime | None = None
) -> None:
    """FileError when a file of `adding_bytes` would take what the family sent over the
    last rules.FAMILY_UPLOAD_DAYS (documents, message attachments and absence certificates
    together) past rules.FAMILY_UPLOAD_BYTES. Called in the write transaction that keeps
    the file: the family's row is locked on PostgreSQL (SQLite has one writer), so two
    uploads at once cannot both take the last room."""
    lock = "" if db.is_sqlite() else " FOR NO KEY UPDATE OF family"
    family = await Family.raw(
        "SELECT structure.timezone AS timezone FROM family"  # noqa: S608 (lock: a literal)
        f" JOIN structure ON structure.id = family.structure WHERE family.id = {{}}{lock}",
        family_id,
    )
    since = (now or clock.utcnow()) - timedelta(days=rules.FAMILY_UPLOAD_DAYS)
    documents = await FamilyDocument.select(
        FamilyDocument.uploaded_at.as_alias("at"), FamilyDocument.size_bytes.as_alias("n")
    ).where((FamilyDocument.family == family_id) & (FamilyDocument.uploaded_at > since))
    attachments = await MessageAttachment.select(
        MessageAttachment.message._.created_at.as_alias("at"), MessageAttachment.size.as_alias("n")
    ).where(
        (MessageAttachment.message._.family == family_id)
        & (MessageAttachment.message._.from_family == True)  # noqa: E712
        & (MessageAttachment.message._.created_at > since)
    )
    certificates = await AbsenceDeclaration.select(
        AbsenceDeclaration.declared_at.as_alias("at"),
        AbsenceDeclaration.certificate_size.as_alias("n"),
    ).where((AbsenceDeclaration.family == family_id) & (AbsenceDeclaration.declared_at > since))
    sent = [
        (at, int(r["n"] or 0))
        for r in (*documents, *attachments, *certificates)
        if (at := clock.as_utc(r["at"])) is not None
    ]
    zone = clock.zone(str(family[0]["timezone"]) if family else None)
    if (refusal := rules.upload_quota_error(sent, adding_bytes, zone)) is not None:
        raise FileError(refusal)


@dataclass(frozen=True)
class Uploaded:
    id: int
    type_name: str


async def upload_document(
    documents_dir: Path,
    family_id: int,
    account_id: int | None,
    type_id: int,
    person_id: int | None,
    filename: str,
    content: bytes,
) -> Uploaded:
    """Store a checked document for one slot of the family's file (status: to check)."""
    content_type, extension = rules.check_upload(content)
    family = await (
        Family.select(Family.structure.id, Family.structure.timezone)
        .where(Family.id == family_id)
        .output(nested=False)
        .first()
    )
    if family is None:
        raise NotFound(family_id)
    doc_type = await DocumentType.objects().get(
        (DocumentType.id == type_id) & (DocumentType.structure == family["structure.id"])
    )
    if doc_type is None:
        raise FileError("Choisissez le type de document à envoyer.")
    if doc_type.per_child:
        if person_id is None:
            raise FileError(f"« {doc_type.name} » : choisissez l'enfant concerné.")
        await _person_of(family_id, person_id)
    else:
        person_id = None
    digest = hashlib.sha256(content).hexdigest()
    today = clock.local_today(str(family["structure.timezone"]))
    kept = [
        rules.KeptDocument(
            int(r["document_type"]),
            None if r["person"] is None else int(r["person"]),
            str(r["sha256"]),
            str(r["status"]),
            r["valid_until"],
        )
        for r in await FamilyDocument.select(
            FamilyDocument.document_type,
            FamilyDocument.person,
            FamilyDocument.sha256,
            FamilyDocument.status,
            FamilyDocument.valid_until,
        ).where((FamilyDocument.family == family_id) & (FamilyDocument.status != "deleted"))
    ]
    refusal = rules.quota_error(kept, type_id, person_id, digest, doc_type.name, today)
    if refusal is not None:
        raise FileError(refusal)
    key = await store_upload(documents_dir, content)
    path = document_path(documents_dir, key)
    try:
        async with write_transaction():
            await check_upload_quota(family_id, len(content))
            row = await FamilyDocument.insert(
                FamilyDocument(
                    family=family_id,
                    person=person_id,
                    document_type=type_id,
                    filename=rules.safe_filename(filename, extension),
                    content_type=content_type,
                    size_bytes=len(content),
                    sha256=digest,
                    storage_key=key,
                    status=rules.DocumentStatus.PENDING,
                    uploaded_by=account_id,
                    uploaded_at=clock.utcnow(),
                )
            ).returning(FamilyDocument.id)
            await refresh_flag(family_id)
    except BaseException:
        path.unlink(missing_ok=True)  # no orphan file when the row is not written
        raise
    return Uploaded(int(row[0]["id"]), doc_type.name)


@dataclass(frozen=True)
class StoredDocument:
    id: int
    family_id: int
    person_id: int | None
    filename: str
    content_type: str
    path: Path
    type_name: str
    status: str
    health: bool = False  # of a health type: staff need health access to open it


async def _stored(documents_dir: Path, row: FamilyDocument | None) -> StoredDocument:
    if row is None or row.status == "deleted":
        raise NotFound("document")
    doc_type = await DocumentType.objects().get(DocumentType.id == row.document_type)
    path = document_path(documents_dir, row.storage_key)
    if not path.is_file():
        raise NotFound("document")
    return StoredDocument(
        int(row.id),
        int(row.family),
        int(row.person) if row.person else None,
        row.filename,
        row.content_type,
        path,
        doc_type.name if doc_type else "",
        row.status,
        bool(doc_type and rules.tells_health(doc_type.health, doc_type.required_when)),
    )


async def family_document(documents_dir: Path, family_id: int, document_id: int) -> StoredDocument:
    """One of this family's documents; NotFound for anybody else's."""
    row = await FamilyDocument.objects().get(
        (FamilyDocument.id == document_id) & (FamilyDocument.family == family_id)
    )
    return await _stored(documents_dir, row)


async def structure_document(
    documents_dir: Path, structure_id: int, document_id: int
) -> StoredDocument:
    """A document of a family of this structure; NotFound otherwise."""
    row = await FamilyDocument.objects().get(
        (FamilyDocument.id == document_id) & (FamilyDocument.family._.structure == structure_id)
    )
    return await _stored(documents_dir, row)
