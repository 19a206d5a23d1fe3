"""The demo shows the parents' tools: DUPONT's saved semaine type and a declared absence
awaiting the Mairie's staff, with its certificate."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from portal.demo import load_demo
from portal.domain.absences import service as absences
from portal.domain.booking.scope import load_scope
from portal.domain.staff.service import Actor
from portal.domain.week_pattern import service as patterns
from portal.tables import AccountFamily, StaffMember, Structure
from tests.conftest import Database


async def test_demo_has_a_pattern_and_an_absence_awaiting_staff(
    db: Database, tmp_path: Path
) -> None:
    await load_demo(date(2026, 12, 1), documents_dir=tmp_path)
    row = await (
        AccountFamily.select(AccountFamily.family)
        .where(
            (AccountFamily.account._.login == "dupont")
            & (AccountFamily.family._.structure._.slug == "carteville")
        )
        .first()
    )
    assert row is not None
    scope = await load_scope(int(row["family"]))
    [saved] = await patterns.patterns_of(scope)
    assert saved.person_name == "Paolo" and saved.name == "Année scolaire"
    assert [activity for activity, _ in saved.summary] == [
        "ALSH 6-12 - Mercredi Journée",
        "Restauration Scolaire",
    ]
    mairie = await Structure.objects().get(Structure.slug == "carteville")
    assert mairie is not None
    [waiting] = await absences.waiting_absences(int(mairie.id), health=True)
    assert waiting.person == "DUPONT Paolo" and waiting.has_certificate
    assert waiting.day > date(2026, 12, 1)
    gestion = await StaffMember.objects().get(StaffMember.login == "gestion")
    assert gestion is not None
    stored = await absences.structure_certificate(
        Actor.of(gestion), tmp_path, int(mairie.id), waiting.id
    )
    assert stored.path.read_bytes().startswith(b"%PDF-")
