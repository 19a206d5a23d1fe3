"""The family file ("dossier famille"): contact details, household adults, each child's
file (school, health, authorisations, contacts), documents and their checks, changes
waiting for staff validation, per-structure file rules, and enrolment requests.

Health fields are sensitive data (RGPD art. 9): they live in `ChildFile` only, so that
reading, exporting and anonymising them has one place to look.
"""

from __future__ import annotations

from enum import Enum

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.choices import Choice
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.tables.core import Account, Activity, Family, Person, StaffMember, Structure


class FileSettings(Table):
    """A structure's rules for the family file (one row per structure, optional)."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, unique=True)
    # Field codes of portal.domain.family_file.rules.FIELDS that must be filled.
    required_fields = JSON(default="[]")
    # The yearly "mise à jour du dossier": parents confirm before this date.
    campaign_deadline = Date(null=True, default=None)
    campaign_message = Text(default="")
    # Months after the family's last activity before documents and health data are erased.
    retention_months = Integer(default=24)


class RequiredWhen(Enum):
    """The conditions a document type can be asked under (admin labels in French)."""

    always = Choice(value="", display_name="Toujours (selon « requis »)")
    pai = Choice(value="pai", display_name="Enfant avec un PAI")
    disability = Choice(value="disability", display_name="Enfant en situation de handicap")


class DocumentType(Table):
    """A kind of document the structure asks for: per family or per child."""

    id = Serial(primary_key=True)
    structure = ForeignKey(references=Structure, index=True)
    code = Varchar(length=40)
    name = Varchar(length=200)
    per_child = Boolean(default=False)
    required = Boolean(default=True)
    # "pai": asked only for a child with a PAI; "disability": only for a child with a
    # recognised disability (domain.family_file.rules.REQUIRED_WHEN). The slot itself tells
    # whoever sees the file's documents that the child has the condition, health access or
    # not (the document stays sealed to members without it). A choice list in the admin,
    # and the database refuses any other value: a typo made the document asked of every
    # child.
    required_when = Varchar(length=20, default="", choices=RequiredWhen)
    # Staff set an end date when validating (insurance, CAF attestation).
    has_end_date = Boolean(default=True)
    position = Integer(default=0)
    # Health data (a PAI, a medical certificate): only staff with health access open or
    # decide it (portal.domain.file_review.health_access).
    health = Boolean(default=False)


class FamilyContact(Table):
    """A family's address and phones (the e-mails are the accounts' own)."""

    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, unique=True)
    address = Varchar(length=300, default="")
    postcode = Varchar(length=10, default="")
    city = Varchar(length=120, default="")
    phone_home = Varchar(length=30, default="")
    phone_mobile = Varchar(length=30, default="")
    phone_work = Varchar(length=30, default="")
    quotient_familial = Integer(null=True, default=None)
    tariff_valid_until = Date(null=True, default=None)
    # Priority for booking periods: every parent of the household works (or the single parent
    # does), on proof checked by staff; null: not proven. Never typed by the parent.
    parents_working_until = Date(null=True, default=None)
    # Answer to the yearly campaign: the deadline it answered, and when.
    confirmed_for = Date(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class HouseholdAdult(Table):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    first_name = Varchar(length=100)
    last_name = Varchar(length=100)
    link = Varchar(length=40, default="")  # mère, père, tuteur…
    phone = Varchar(length=30, default="")
    email = Varchar(length=254, default="")
    account = ForeignKey(references=Account, null=True, default=None, on_delete=OnDelete.set_null)
    position = Integer(default=0)


class ChildFile(Table):
    """One child's file. Health fields are sensitive (see the module docstring)."""

    id = Serial(primary_key=True)
    person = ForeignKey(references=Person, unique=True)
    school = Varchar(length=200, default="")
    class_name = Varchar(length=60, default="")
    allergies = Text(default="")
    diet = Varchar(length=20, default="")  # "", sans_porc, vegetarien, sans_viande
    pai = Boolean(default=False)
    pai_end = Date(null=True, default=None)
    # A recognised disability (MDPH notification, AEEH): health data, like the PAI.
    disability = Boolean(default=False)
    disability_end = Date(null=True, default=None)
    doctor = Varchar(length=200, default="")
    doctor_phone = Varchar(length=30, default="")
    vaccinations_ok = Boolean(null=True, default=None)
    image_rights = Boolean(null=True, default=None)
    may_leave_alone = Boolean(null=True, default=None)
    # Authorised adults and emergency contacts: [{"name", "phone", "link"}].
    pickup_adults = JSON(default="[]")
    emergency_contacts = JSON(default="[]")
    updated_at = Timestamptz(default=TimestamptzNow())
    anonymised_at = Timestamptz(null=True, default=None)


class PendingChange(Table):
    """A parent's change to health or authorised adults, waiting for staff validation."""

    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    person = ForeignKey(references=Person, index=True)
    # {field: [before, after]} of the fields that change.
    changes = JSON(default="{}")
    status = Varchar(length=10, default="pending")  # pending, validated, refused
    reason = Text(default="")
    account = ForeignKey(references=Account, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(references=StaffMember, null=True, on_delete=OnDelete.set_null)


class FamilyDocument(Table):
    """An uploaded document; the bytes live under the var dir, never in the web root."""

    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    person = ForeignKey(references=Person, null=True, default=None, index=True)
    document_type = ForeignKey(references=DocumentType, index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=40)
    size_bytes = Integer()
    sha256 = Varchar(length=64)
    storage_key = Varchar(length=120, unique=True)
    status = Varchar(length=10, default="pending")  # pending, valid, refused, deleted
    reason = Text(default="")
    valid_until = Date(null=True, default=None)
    uploaded_by = ForeignKey(references=Account, null=True, on_delete=OnDelete.set_null)
    uploaded_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(references=StaffMember, null=True, on_delete=OnDelete.set_null)


class EnrolmentOffer(Table):
    """Whether parents may ask on the portal to enrol a child on an activity, and how."""

    id = Serial(primary_key=True)
    activity = ForeignKey(references=Activity, unique=True)
    is_open = Boolean(default=False)
    period_label = Varchar(length=100, default="")
    period_start = Date(null=True, default=None)
    period_end = Date(null=True, default=None)
    age_min = Integer(null=True, default=None)
    age_max = Integer(null=True, default=None)
    # Codes of DocumentType that must be valid before asking.
    required_documents = JSON(default="[]")


class EnrolmentRequest(Table):
    id = Serial(primary_key=True)
    family = ForeignKey(references=Family, index=True)
    person = ForeignKey(references=Person, index=True)
    activity = ForeignKey(references=Activity, index=True)
    period_start = Date(null=True, default=None)
    period_end = Date(null=True, default=None)
    status = Varchar(length=10, default="pending")  # pending, accepted, refused, cancelled
    reason = Text(default="")
    account = ForeignKey(references=Account, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(references=StaffMember, null=True, on_delete=OnDelete.set_null)


FAMILY_FILE_TABLES: list[type[Table]] = [
    FileSettings,
    DocumentType,
    FamilyContact,
    HouseholdAdult,
    ChildFile,
    PendingChange,
    FamilyDocument,
    EnrolmentOffer,
    EnrolmentRequest,
]

__all__ = [
    "FAMILY_FILE_TABLES",
    "ChildFile",
    "DocumentType",
    "EnrolmentOffer",
    "EnrolmentRequest",
    "FamilyContact",
    "FamilyDocument",
    "FileSettings",
    "HouseholdAdult",
    "PendingChange",
]
