"""Demonstration family files: the town hall's file rules, and each state a file can be in.

- dupont: complete; Amalia has a PAI (with its document) and a peanut allergy;
- martin: complete, with a health change waiting for validation (Léa);
- durand: incomplete, the CAF attestation refused (with its reason), Hugo's insurance
  being checked.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

from portal.domain.family_file.rules import ChangeStatus, DocumentStatus
from portal.domain.family_file.service import document_path
from portal.tables import (
    ChildFile,
    DocumentType,
    Family,
    FamilyContact,
    FamilyDocument,
    FileSettings,
    HouseholdAdult,
    PendingChange,
)

DOC_TYPES = [
    # code, name, per child, required, required when, has end date, health data
    ("caf", "Attestation CAF / quotient familial", False, True, "", True, False),
    ("assurance", "Assurance extrascolaire", True, True, "", True, False),
    ("pai", "PAI (projet d'accueil individualisé)", True, True, "pai", True, True),
    ("certificat", "Certificat médical", True, False, "", True, True),
    ("vaccins", "Vaccinations (copie du carnet)", True, False, "", False, True),
    # The proofs behind two priority criteria of booking periods. The MDPH notification is
    # offered only for a child whose file says disability, like the PAI's plan, but not
    # required: a priority asked for must not block the family's bookings until it is proven.
    ("employeur", "Attestation d'employeur (une par parent)", False, False, "", True, False),
    ("mdph", "Notification MDPH / AEEH", True, False, "disability", True, True),
]


def sample_pdf(title: str) -> bytes:
    """A one-page PDF saying what it stands for (demonstration only)."""
    text = title.encode("latin-1", "replace")
    stream = b"BT /F1 18 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n".encode()
    return out + b"%%EOF\n"


async def load(
    structure_id: int,
    families: dict[str, int],
    persons: dict[str, int],
    today: date,
    now: datetime,
    documents_dir: Path | None,
) -> None:
    """Write the file rules of the town hall and the demo families' files."""
    await FileSettings.insert(
        FileSettings(
            structure=structure_id,
            required_fields=["address", "phone", "emergency"],
            campaign_deadline=today + timedelta(days=21),
            campaign_message="Vérifiez les contacts d'urgence et envoyez la nouvelle "
            "attestation d'assurance de l'année scolaire.",
            retention_months=24,
        )
    )
    types: dict[str, int] = {}
    for position, (code, name, per_child, required, when, end, health) in enumerate(DOC_TYPES):
        row = await DocumentType.insert(
            DocumentType(
                structure=structure_id, code=code, name=name, per_child=per_child,
                required=required, required_when=when, has_end_date=end, position=position,
                health=health,
            )
        ).returning(DocumentType.id)  # fmt: skip
        types[code] = int(row[0]["id"])

    contacts = {
        "dupont": ("12 rue des Vignes", "33850", "Léognan", "05 56 64 10 20", "06 11 22 33 44"),
        "martin": ("3 allée des Pins", "33850", "Léognan", "", "06 55 44 33 22"),
        "durand": ("8 chemin du Moulin", "33850", "Léognan", "", "07 70 80 90 10"),
    }
    school_year_end = date(today.year + (today.month >= 8), 8, 31)
    for key, (address, postcode, city, home, mobile) in contacts.items():
        await FamilyContact.insert(
            FamilyContact(
                family=families[key], address=address, postcode=postcode, city=city,
                phone_home=home, phone_mobile=mobile,
                quotient_familial={"dupont": 920, "martin": 610, "durand": 1450}[key],
                tariff_valid_until=date(today.year, 12, 31), updated_at=now,
                # Both DUPONT parents and Claire DURAND, alone, proved they work; not MARTIN.
                parents_working_until=None if key == "martin" else school_year_end,
            )
        )  # fmt: skip
    await HouseholdAdult.insert(
        HouseholdAdult(family=families["dupont"], first_name="Jean-Paul", last_name="DUPONT",
                       link="père", phone="06 11 22 33 44", email="jean-paul.dupont@example.fr"),
        HouseholdAdult(family=families["dupont"], first_name="Marie", last_name="DUPONT",
                       link="mère", phone="06 98 76 54 32", position=1),
        HouseholdAdult(family=families["martin"], first_name="Sophie", last_name="MARTIN",
                       link="mère", phone="06 55 44 33 22"),
        HouseholdAdult(family=families["durand"], first_name="Claire", last_name="DURAND",
                       link="mère", phone="07 70 80 90 10"),
    )  # fmt: skip
    grandma = {"name": "Odette DUPONT", "phone": "05 56 00 11 22", "link": "grand-mère"}
    mother = {"name": "Marie DUPONT", "phone": "06 98 76 54 32", "link": "mère"}
    pai_end = date(today.year + (today.month >= 7), 7, 4)
    disability_end = date(today.year + 2, 6, 30)
    files = [
        ChildFile(person=persons["paolo"], school="École Jules Ferry", class_name="CE1",
                  doctor="Dr Lucas", doctor_phone="05 56 64 00 00", vaccinations_ok=True,
                  image_rights=True, may_leave_alone=False, pickup_adults=[grandma],
                  emergency_contacts=[mother, grandma]),
        ChildFile(person=persons["amalia"], school="École maternelle Les Lilas",
                  class_name="Grande section", allergies="Arachide, fruits à coque",
                  diet="sans_porc", pai=True, pai_end=pai_end, doctor="Dr Lucas",
                  doctor_phone="05 56 64 00 00", vaccinations_ok=True, image_rights=True,
                  may_leave_alone=False, pickup_adults=[grandma],
                  emergency_contacts=[mother, grandma]),
        ChildFile(person=persons["lea"], school="École Jules Ferry", class_name="CM1",
                  vaccinations_ok=True, image_rights=False, may_leave_alone=True,
                  emergency_contacts=[{"name": "Paul MARTIN", "phone": "06 12 12 12 12",
                                       "link": "père"}]),
        ChildFile(person=persons["hugo"], school="École Jules Ferry", class_name="CP",
                  image_rights=True, may_leave_alone=False, disability=True,
                  disability_end=disability_end,
                  emergency_contacts=[{"name": "Claire DURAND", "phone": "07 70 80 90 10",
                                       "link": "mère"}]),
    ]  # fmt: skip
    for child_file in files:
        child_file.updated_at = now
    await ChildFile.insert(*files)
    await PendingChange.insert(
        PendingChange(
            family=families["martin"],
            person=persons["lea"],
            changes={"allergies": ["", "Lactose"], "diet": ["", "vegetarien"]},
            status=ChangeStatus.PENDING,
            created_at=now - timedelta(hours=3),
        )
    )

    valid_caf = today + timedelta(days=200)
    VALID, REFUSED, PENDING = DocumentStatus.VALID, DocumentStatus.REFUSED, DocumentStatus.PENDING
    docs = [
        # family, person, type, title, status, valid until, reason
        ("dupont", None, "caf", "Attestation CAF DUPONT", VALID, valid_caf, ""),
        ("dupont", "paolo", "assurance", "Assurance Paolo", VALID, school_year_end, ""),
        ("dupont", "amalia", "assurance", "Assurance Amalia", VALID, school_year_end, ""),
        ("dupont", "amalia", "pai", "PAI Amalia", VALID, pai_end, ""),
        ("martin", None, "caf", "Attestation CAF MARTIN", VALID, valid_caf, ""),
        ("martin", "lea", "assurance", "Assurance Léa", VALID, school_year_end, ""),
        ("durand", None, "caf", "Attestation CAF DURAND", REFUSED, None,
         "Attestation de plus de trois mois : merci d'envoyer celle du mois en cours."),
        ("durand", "hugo", "assurance", "Assurance Hugo", PENDING, None, ""),
        ("dupont", None, "employeur", "Attestations employeur DUPONT", VALID, school_year_end,
         ""),
        ("durand", None, "employeur", "Attestation employeur DURAND", VALID, school_year_end,
         ""),
        ("durand", "hugo", "mdph", "Notification MDPH Hugo", VALID, disability_end, ""),
    ]  # fmt: skip
    for family, person, code, title, status, until, reason in docs:
        content = sample_pdf(title)
        key = secrets.token_hex(16)
        if documents_dir is not None:
            path = document_path(documents_dir, key)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_bytes(content)
        await FamilyDocument.insert(
            FamilyDocument(
                family=families[family], person=persons[person] if person else None,
                document_type=types[code], filename=f"{title.lower().replace(' ', '-')}.pdf",
                content_type="application/pdf", size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(), storage_key=key, status=status,
                reason=reason, valid_until=until, uploaded_at=now - timedelta(days=5),
                decided_at=None if status is PENDING else now - timedelta(days=2),
            )
        )  # fmt: skip
    await Family.update({Family.file_complete: False}).where(Family.id == families["durand"])
