"""The family file's rules on plain values: what a field accepts, what a document's status
is on a day, what is missing for the file to be complete, what a parent's change is.

Uploaded files are recognised by their first bytes (PDF, JPEG, PNG), never by their name
or the browser's declared type: three fixed signatures, an allow-list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# The name staff without health access read for a document of a health type.
HEALTH_DOCUMENT = "Document de santé"
MAX_DOCUMENT_LABEL = "5 Mo"

DIETS = {
    "": "Aucun régime particulier",
    "sans_porc": "Sans porc",
    "vegetarien": "Végétarien",
    "sans_viande": "Sans viande",
}
LINKS = ("mère", "père", "tuteur", "tutrice", "grand-parent", "beau-parent", "autre")

# Fields a structure may require, with the words a parent reads and where to fill them.
FIELDS: dict[str, str] = {
    "address": "l'adresse de la famille",
    "phone": "un numéro de téléphone de la famille",
    "adult": "au moins un adulte du foyer",
    "school": "l'école et la classe",
    "doctor": "le médecin traitant",
    "vaccinations": "les vaccinations à jour",
    "image_rights": "le droit à l'image",
    "may_leave_alone": "l'autorisation de partir seul",
    "pickup": "au moins un adulte autorisé à venir chercher l'enfant",
    "emergency": "au moins un contact en cas d'urgence",
}
FAMILY_FIELDS = ("address", "phone", "adult")

# The child's health data (RGPD art. 9): blanked for a staff member without health access
# (file_review.health_access), wherever it shows, the audit journal included.
HEALTH_FIELDS = (
    "allergies",
    "diet",
    "pai",
    "pai_end",
    "disability",
    "disability_end",
    "doctor",
    "doctor_phone",
    "vaccinations_ok",
)

# Fields whose changes a staff member validates before they apply: the health data, and
# who may pick the child up.
VALIDATED_FIELDS = (*HEALTH_FIELDS, "pickup_adults")

FIELD_LABELS = {
    "allergies": "Allergies",
    "diet": "Régime alimentaire",
    "pai": "PAI",
    "pai_end": "Fin du PAI",
    "disability": "Situation de handicap reconnue (MDPH, AEEH)",
    "disability_end": "Fin de la notification MDPH / AEEH",
    "doctor": "Médecin traitant",
    "doctor_phone": "Téléphone du médecin",
    "vaccinations_ok": "Vaccinations à jour",
    "pickup_adults": "Adultes autorisés à venir chercher l'enfant",
    "emergency_contacts": "Contacts en cas d'urgence",
    "school": "École",
    "class_name": "Classe",
    "image_rights": "Droit à l'image",
    "may_leave_alone": "Peut partir seul",
    "parents_working_until": "Parents en activité professionnelle, justifiée jusqu'au",
}


def in_force(flag: bool, until: date | None, day: date) -> bool:
    """A fact of the file (a PAI, a disability, working parents) counts on a day while its
    proof runs: until its end date included; without an end date, until it is removed."""
    return flag and (until is None or day <= until)


# Validated fields stored as ISO dates in a pending change.
DATE_FIELDS = ("pai_end", "disability_end")

PHONE_RE = re.compile(r"^\+?[0-9 .()-]{6,20}$")
POSTCODE_RE = re.compile(r"^[0-9]{5}$")
EMAIL_RE = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")


class DocumentStatus(StrEnum):
    MISSING = "missing"
    PENDING = "pending"
    VALID = "valid"
    REFUSED = "refused"
    EXPIRED = "expired"


class ChangeStatus(StrEnum):
    """Where a parent's change of a child's file stands (stored as the value)."""

    PENDING = "pending"
    VALIDATED = "validated"
    REFUSED = "refused"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    DocumentStatus.MISSING: "À fournir",
    DocumentStatus.PENDING: "En cours de vérification",
    DocumentStatus.VALID: "Validé",
    DocumentStatus.REFUSED: "Refusé",
    DocumentStatus.EXPIRED: "Expiré",
}
STATUS_BADGES = {
    DocumentStatus.MISSING: "warning",
    DocumentStatus.PENDING: "info",
    DocumentStatus.VALID: "success",
    DocumentStatus.REFUSED: "error",
    DocumentStatus.EXPIRED: "error",
}


class FileError(ValueError):
    """A request on the file that cannot be taken (the message is French)."""


def refusal_reason(accept: bool, reason: str) -> str:
    """The reason of a staff decision, on one line; a refusal must give one (for the family)."""
    reason = " ".join(reason.split())[:500]
    if not accept and not reason:
        raise FileError("Indiquez le motif du refus : il est envoyé à la famille.")
    return reason


# --- uploads ---------------------------------------------------------------------------

SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def sniff(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or None when not PDF/JPEG/PNG."""
    for magic, content_type, extension in SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    return None


def check_upload(content: bytes) -> tuple[str, str]:
    """The content type and extension of an acceptable upload; FileError otherwise."""
    if not content:
        raise FileError("Le fichier est vide : choisissez un document ou prenez une photo.")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise FileError(
            f"Le fichier dépasse {MAX_DOCUMENT_LABEL} : réduisez-le (photo moins lourde, "
            "PDF compressé) puis renvoyez-le."
        )
    found = sniff(content)
    if found is None:
        raise FileError(
            "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG (son contenu a été vérifié, "
            "pas seulement son nom) : envoyez un PDF ou une photo."
        )
    return found


# What one family may send in files over FAMILY_UPLOAD_DAYS, whatever the way (documents
# of its file, attachments of its messages, absence certificates), so that one account
# cannot fill the server's disk (ASVS 12.1.3) even within the per-channel counts: about
# forty files at the largest size allowed, where a family's real papers (a few per child
# and year, photos of 1 to 3 Mo) stay far below it. Over a window rather than for good:
# a family is never locked out of sending the papers it must provide, and what it keeps
# in the long run is bounded by the retention of its file.
FAMILY_UPLOAD_BYTES = 200 * 1024 * 1024
FAMILY_UPLOAD_LABEL = "200 Mo"
FAMILY_UPLOAD_DAYS = 30


def upload_quota_error(
    sent: Sequence[tuple[datetime, int]], adding_bytes: int, tz: ZoneInfo
) -> str | None:
    """Why a file of `adding_bytes` cannot be kept beside the files the family `sent` over
    the last FAMILY_UPLOAD_DAYS (when, how many bytes), in French with the day it can be
    sent (when enough of them leave the window, in the structure's time zone), or None."""
    total = sum(size for _, size in sent)
    if total + adding_bytes <= FAMILY_UPLOAD_BYTES:
        return None
    leaving = total
    retry_at = None
    for sent_at, size in sorted(sent):
        leaving -= size
        if leaving + adding_bytes <= FAMILY_UPLOAD_BYTES:
            retry_at = sent_at + timedelta(days=FAMILY_UPLOAD_DAYS)
            break
    when = (
        f" Vous pourrez l'envoyer à partir du {retry_at.astimezone(tz):%d/%m/%Y}."
        if retry_at is not None
        else ""
    )
    return (
        "Ce fichier n'a pas été enregistré : avec lui, les fichiers envoyés par la famille "
        f"ces {FAMILY_UPLOAD_DAYS} derniers jours dépasseraient {FAMILY_UPLOAD_LABEL} "
        f"(déjà {total // (1024 * 1024)} Mo).{when}"
    )


# Documents one family may have waiting for a check: each upload is up to
# MAX_DOCUMENT_BYTES, and without a bound a single account could fill the server's disk
# and the clerks' work list; past it, the family's uploads go at the pace of the checks.
MAX_PENDING_DOCUMENTS = 20


@dataclass(frozen=True)
class KeptDocument:
    """A document of the family not deleted, as the quota sees it."""

    type_id: int
    person_id: int | None
    sha256: str
    status: str
    valid_until: date | None = None


def quota_error(
    kept: Sequence[KeptDocument],
    type_id: int,
    person_id: int | None,
    sha256: str,
    type_name: str,
    today: date,
) -> str | None:
    """Why this upload cannot be kept (in French), or None. A copy of a document whose
    validity has ended is accepted: sending it again is how a parent renews it."""
    for doc in kept:
        expired = doc.valid_until is not None and doc.valid_until < today
        if (doc.type_id, doc.person_id, doc.sha256) == (type_id, person_id, sha256) and (
            doc.status == "pending" or (doc.status == "valid" and not expired)
        ):
            state = "validé" if doc.status == "valid" else "en cours de vérification"
            return f"Ce fichier a déjà été envoyé pour « {type_name} » : il est {state}."
    if sum(1 for doc in kept if doc.status == "pending") >= MAX_PENDING_DOCUMENTS:
        return (
            f"{MAX_PENDING_DOCUMENTS} documents attendent déjà d'être vérifiés par la "
            "structure : renvoyez celui-ci une fois qu'ils l'auront été."
        )
    return None


def safe_filename(name: str, extension: str) -> str:
    """A display name without path nor odd characters, with the real extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^\w .()-]", "_", base).strip(" .") or "document"
    stem = base.rsplit(".", 1)[0][:80] or "document"
    return f"{stem}.{extension}"


# --- documents -------------------------------------------------------------------------


@dataclass(frozen=True)
class DocType:
    id: int
    code: str
    name: str
    per_child: bool
    required: bool
    required_when: str = ""
    has_end_date: bool = True
    health: bool = False  # a PAI, a medical certificate: staff need health access

    @property
    def tells_health(self) -> bool:
        return tells_health(self.health, self.required_when)


@dataclass(frozen=True)
class Doc:
    id: int
    type_id: int
    person_id: int | None
    status: str  # pending, valid, refused (as stored)
    valid_until: date | None
    uploaded_at: Any = None
    reason: str = ""
    filename: str = ""


def document_status(doc: Doc | None, today: date) -> DocumentStatus:
    if doc is None:
        return DocumentStatus.MISSING
    if doc.status == "valid":
        if doc.valid_until is not None and doc.valid_until < today:
            return DocumentStatus.EXPIRED
        return DocumentStatus.VALID
    if doc.status == DocumentStatus.REFUSED:
        return DocumentStatus.REFUSED
    return DocumentStatus.PENDING


def slot_status(docs: Sequence[Doc], today: date) -> tuple[DocumentStatus, Doc | None]:
    """The status of one required slot: valid if any document is valid today, else the
    latest document's (docs in upload order, oldest first)."""
    for doc in reversed(docs):
        if document_status(doc, today) is DocumentStatus.VALID:
            return DocumentStatus.VALID, doc
    latest = docs[-1] if docs else None
    return document_status(latest, today), latest


# --- completeness ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChildFacts:
    person_id: int
    first_name: str
    school: str = ""
    doctor: str = ""
    vaccinations_ok: bool | None = None
    image_rights: bool | None = None
    may_leave_alone: bool | None = None
    pai: bool = False
    disability: bool = False
    pickup_count: int = 0
    emergency_count: int = 0


@dataclass(frozen=True)
class FamilyFacts:
    address: str = ""
    phones: tuple[str, ...] = ()
    adults: int = 0
    children: tuple[ChildFacts, ...] = ()
    documents: tuple[Doc, ...] = ()


@dataclass(frozen=True)
class FileRules:
    required_fields: tuple[str, ...] = ()
    document_types: tuple[DocType, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.required_fields and not any(t.required for t in self.document_types)


@dataclass(frozen=True)
class Missing:
    text: str  # French: "Attestation CAF/QF : refusé"
    anchor: str  # fragment of the "Mon dossier" page: "documents", "enfant-12"
    # What staff without health access read instead ("" : the same): a slot of a health
    # type named with its child ("PAI (Paolo)") would tell them the child's condition.
    sealed_text: str = ""

    def sealed(self) -> Missing:
        return replace(self, text=self.sealed_text) if self.sealed_text else self


@dataclass(frozen=True)
class Slot:
    doc_type: DocType
    person_id: int | None
    person_name: str
    status: DocumentStatus
    doc: Doc | None
    history: tuple[Doc, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    def sealed(self) -> Slot:
        """The slot as staff without health access see it: of a health type, neither its
        type's name nor its child's, nor its files."""
        if not self.doc_type.tells_health:
            return self
        return replace(
            self,
            doc_type=replace(self.doc_type, name=HEALTH_DOCUMENT),
            person_name="",
            doc=None,
            history=(),
        )

    @property
    def badge(self) -> str:
        return STATUS_BADGES[self.status]

    @property
    def title(self) -> str:
        return (
            f"{self.doc_type.name} ({self.person_name})"
            if self.person_name
            else (self.doc_type.name)
        )


# A document type asked only of some children: its condition on the child's file.
REQUIRED_WHEN: dict[str, Callable[[ChildFacts], bool]] = {
    "pai": lambda child: child.pai,
    "disability": lambda child: child.disability,
}


def tells_health(health: bool, required_when: str) -> bool:
    """Whether a document of this type is health data for staff: of a health type, or
    asked only of a child with a PAI or a disability (its mere presence tells the child's
    condition, whatever the type's own flag)."""
    return health or required_when in REQUIRED_WHEN


def applies_to(doc_type: DocType, child: ChildFacts | None) -> bool:
    if doc_type.per_child and child is None:
        return False
    condition = REQUIRED_WHEN.get(doc_type.required_when)
    return condition is None or (child is not None and condition(child))


def slots(rules: FileRules, facts: FamilyFacts, today: date) -> list[Slot]:
    """Every document slot (each family type once, each child type per child)."""
    result: list[Slot] = []
    for doc_type in rules.document_types:
        owners: list[ChildFacts | None] = list(facts.children) if doc_type.per_child else [None]
        for child in owners:
            person_id = child.person_id if child else None
            docs = tuple(
                d for d in facts.documents if d.type_id == doc_type.id and d.person_id == person_id
            )
            status, doc = slot_status(docs, today)
            if not applies_to(doc_type, child) and not docs:
                continue
            result.append(
                Slot(doc_type, person_id, child.first_name if child else "", status, doc, docs)
            )
    return result


def _child_missing(code: str, child: ChildFacts) -> bool:
    return {
        "school": not child.school.strip(),
        "doctor": not child.doctor.strip(),
        "vaccinations": child.vaccinations_ok is not True,
        "image_rights": child.image_rights is None,
        "may_leave_alone": child.may_leave_alone is None,
        "pickup": child.pickup_count == 0,
        "emergency": child.emergency_count == 0,
    }.get(code, False)


def missing_items(rules: FileRules, facts: FamilyFacts, today: date) -> list[Missing]:
    """What keeps the file from being complete today, in the order of the page."""
    missing: list[Missing] = []
    for code in rules.required_fields:
        if code == "address" and not facts.address.strip():
            missing.append(Missing(f"Famille : {FIELDS[code]}", "famille"))
        elif code == "phone" and not any(p.strip() for p in facts.phones):
            missing.append(Missing(f"Famille : {FIELDS[code]}", "famille"))
        elif code == "adult" and facts.adults == 0:
            missing.append(Missing(f"Famille : {FIELDS[code]}", "adultes"))
    for child in facts.children:
        for code in rules.required_fields:
            if code not in FAMILY_FIELDS and _child_missing(code, child):
                missing.append(
                    Missing(f"{child.first_name} : {FIELDS[code]}", f"enfant-{child.person_id}")
                )
    children = {c.person_id: c for c in facts.children}
    for slot in slots(rules, facts, today):
        owner = children.get(slot.person_id) if slot.person_id else None
        if not slot.doc_type.required or not applies_to(slot.doc_type, owner):
            continue
        if slot.status is not DocumentStatus.VALID:
            missing.append(
                Missing(
                    f"{slot.title} : {slot.label.lower()}",
                    "documents",
                    f"{HEALTH_DOCUMENT} : {slot.label.lower()}"
                    if slot.doc_type.tells_health
                    else "",
                )
            )
    return missing


# --- parent input ----------------------------------------------------------------------


def clean_text(value: Any, limit: int) -> str:
    return " ".join(str(value or "").split())[:limit]


def clean_phone(value: Any, label: str, errors: list[str]) -> str:
    text = clean_text(value, 30)
    if text and not PHONE_RE.match(text):
        errors.append(f"{label} : numéro de téléphone invalide (chiffres, espaces, +).")
    return text


def parse_yes_no(value: Any) -> bool | None:
    text = str(value or "").strip().lower()
    if text in ("oui", "1", "true", "on"):
        return True
    if text in ("non", "0", "false"):
        return False
    return None


def parse_date(value: Any, label: str, errors: list[str]) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if match:
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            pass
    errors.append(f"{label} : date invalide (jj/mm/aaaa).")
    return None


def parse_people(
    names: Sequence[Any], phones: Sequence[Any], links: Sequence[Any], label: str,
    errors: list[str],
) -> list[dict[str, str]]:  # fmt: skip
    """Rows of a repeated (name, phone, link) block; blank rows dropped, at most 8."""
    people: list[dict[str, str]] = []
    for index in range(min(max(len(names), len(phones)), 8)):
        name = clean_text(names[index] if index < len(names) else "", 120)
        phone_raw = phones[index] if index < len(phones) else ""
        link = clean_text(links[index] if index < len(links) else "", 40)
        if not name and not str(phone_raw or "").strip():
            continue
        if not name:
            errors.append(f"{label} : indiquez le nom de chaque personne.")
            continue
        phone = clean_phone(phone_raw, f"{label} ({name})", errors)
        if not phone:
            errors.append(f"{label} : indiquez le téléphone de {name}.")
        people.append({"name": name, "phone": phone, "link": link})
    return people


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that change."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def describe_value(name: str, value: Any) -> str:
    """A stored value as a parent or an agent reads it."""
    if name == "diet":
        return DIETS.get(str(value or ""), str(value))
    if value is None or value == "":
        return "non renseigné"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if name in DATE_FIELDS:
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if isinstance(value, list):
        if not value:
            return "personne"
        return " ; ".join(
            ", ".join(x for x in (p.get("name", ""), p.get("phone", ""), p.get("link", "")) if x)
            for p in value
            if isinstance(p, dict)
        )
    return str(value)


def describe_changes(changes: Mapping[str, Sequence[Any]]) -> list[tuple[str, str, str]]:
    """(label, before, after) lines of a pending change."""
    return [
        (FIELD_LABELS.get(k, k), describe_value(k, v[0]), describe_value(k, v[1]))
        for k, v in changes.items()
    ]


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def unique_codes(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value in FIELDS and value not in seen:
            seen.append(value)
    return seen
