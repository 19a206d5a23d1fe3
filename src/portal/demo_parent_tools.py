"""Demonstration data of the parents' tools (issue 16): DUPONT has a saved semaine type
for Paolo (canteen Monday, Tuesday, Thursday, Friday; ALSH on Wednesday) and has declared
Paolo absent on his next booked canteen day, with a certificate, awaiting the staff's
decision on the Mairie's Décisions page.

Called by portal.demo.load_demo() inside its transaction, after the bookings exist.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

from portal.demo_family_file import sample_pdf
from portal.domain.absences.rules import AbsenceStatus
from portal.domain.family_file.service import document_path
from portal.domain.week_pattern.rules import Pattern
from portal.tables import (
    AbsenceDeclaration,
    Account,
    Activity,
    Family,
    Person,
    Reservation,
    Structure,
    WeekPattern,
)


async def load_parent_tools_demo(
    today: date, now: datetime, structure_slug: str, documents_dir: Path | None
) -> None:
    structure = await Structure.objects().get(Structure.slug == structure_slug)
    assert structure is not None
    family = await Family.objects().get(
        (Family.structure == structure.id) & (Family.name == "DUPONT Jean-Paul")
    )
    assert family is not None
    paolo = await Person.objects().get(
        (Person.family == family.id) & (Person.first_name == "Paolo")
    )
    assert paolo is not None
    activities = {
        a.name: int(a.id)
        for a in await Activity.objects().where(Activity.structure == structure.id)
    }
    canteen = activities["Restauration Scolaire"]
    alsh = next(i for name, i in activities.items() if name.startswith("ALSH"))
    pattern = Pattern({canteen: frozenset({0, 1, 3, 4}), alsh: frozenset({2})})
    await WeekPattern.insert(
        WeekPattern(
            family=family.id,
            person=paolo.id,
            name="Année scolaire",
            slots=pattern.to_text(),
            updated_at=now,
        )
    )
    # The next canteen day Paolo is booked on, from tomorrow: declared absent yesterday.
    booked = await (
        Reservation.select(Reservation.id, Reservation.activity_day._.day)
        .where(
            (Reservation.person == paolo.id)
            & (Reservation.status == "accepted")
            & (Reservation.activity_day._.activity == canteen)
            & (Reservation.activity_day._.day > today)
        )
        .order_by(Reservation.activity_day._.day)
        .first()
    )
    if booked is None:
        return
    account = await Account.objects().get(Account.login == "dupont")
    content = sample_pdf("Certificat medical - Paolo DUPONT")
    key = secrets.token_hex(16)
    if documents_dir is not None:
        path = document_path(documents_dir, key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_bytes(content)
    await AbsenceDeclaration.insert(
        AbsenceDeclaration(
            family=family.id,
            reservation=booked["id"],
            person=paolo.id,
            declared_at=now - timedelta(hours=16),
            declared_by=account.id if account else None,
            note="Paolo a de la fièvre depuis hier soir, certificat du médecin joint.",
            certificate_key=key if documents_dir is not None else "",
            certificate_name="certificat-medical-paolo.pdf" if documents_dir is not None else "",
            certificate_type="application/pdf" if documents_dir is not None else "",
            certificate_size=len(content) if documents_dir is not None else 0,
            status=AbsenceStatus.DECLARED.value,
        )
    )
