"""Who among the staff may see the health data of the family file (RGPD art. 9: only the
roles that need it). A flag on the member's link to the structure, on by default and
editable by administrators in the raw tables; administrators always have it.

Without it a member still works on the file (contact details, documents to check,
authorisations), with the health fields blanked, and the health pages (kitchen list,
printable child sheet, child edit, pending health changes) and the documents of a
health type (a PAI, a medical certificate: DocumentType.health) answer 403.
"""

from __future__ import annotations

from dataclasses import fields, replace

from portal.domain.family_file.rules import HEALTH_FIELDS
from portal.domain.family_file.service import ChildView, FileView
from portal.domain.staff.service import Actor
from portal.tables import StaffStructure


class HealthDenied(PermissionError):
    """A health document or page asked by a member without health access (French text)."""


DENIED = (
    "Les données de santé des dossiers sont réservées aux agents habilités. "
    "Demandez l'accès à un administrateur du portail."
)


async def has_health_access(actor: Actor, structure_id: int) -> bool:
    if actor.is_admin:
        return True
    row = (
        await StaffStructure.select(StaffStructure.health_access)
        .where(
            (StaffStructure.staff == actor.staff_id) & (StaffStructure.structure == structure_id)
        )
        .first()
    )
    return bool(row and row["health_access"])


# Each health field of a child's view as a child without any health data shows it.
_NO_HEALTH = {f.name: f.default for f in fields(ChildView) if f.name in HEALTH_FIELDS}


def without_health(view: FileView) -> FileView:
    """The file with every child's health fields and pending health changes blanked, and
    its slots of a health type, and what is missing of them, told without their type's
    name, their child or their files."""
    for child in view.children:
        for name, blank in _NO_HEALTH.items():
            setattr(child, name, blank)
        child.pending = None
        child.last_refused = None
    view.slots = [slot.sealed() for slot in view.slots]
    view.state = replace(view.state, missing=tuple(m.sealed() for m in view.state.missing))
    return view
