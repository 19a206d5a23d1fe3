"""Families' bands from the QF of their file, a staff override, both audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.domain.quotient import service
from portal.domain.staff.service import NotFound
from portal.tables import AuditLog, Family, FamilyContact
from tests.conftest import Database
from tests.factories import actor, make_staff, make_world, today


async def test_bands_from_the_qf_then_an_override(db: Database) -> None:
    world = await make_world()
    clerk = actor(await make_staff("agent-a", world.structure))
    dupont, martin = int(world.family.family.id), int(world.other.family.id)
    await FamilyContact(family=dupont, quotient_familial=550).save()
    await FamilyContact(
        family=martin, quotient_familial=450, tariff_valid_until=today() - timedelta(days=1)
    ).save()
    with pytest.raises(service.BandError):
        await service.save_bands(clerk, world.sid, "A ; 900\nB ; 600\nC")
    await service.save_bands(clerk, world.sid, "QF1 ; 600\nQF2 ; 900\nQF3")
    lines = {f.family_id: f for f in await service.family_bands(world.sid, today())}
    assert (lines[dupont].computed, lines[martin].computed) == ("QF1", "QF3")  # expired QF
    assert await service.apply_bands(clerk, world.sid, today()) == 2
    assert await service.apply_bands(clerk, world.sid, today()) == 0
    band = await Family.select(Family.tariff_band).where(Family.id == dupont).first()
    assert band == {"tariff_band": "QF1"}

    with pytest.raises(service.BandError, match="motif"):
        await service.set_override(clerk, world.sid, martin, "QF1", " ", today())
    with pytest.raises(service.BandError, match="n'existe pas"):
        await service.set_override(clerk, world.sid, martin, "Z", "Erreur", today())
    await service.set_override(clerk, world.sid, martin, "QF1", "Attestation en cours", today())
    band = await Family.select(Family.tariff_band).where(Family.id == martin).first()
    assert band == {"tariff_band": "QF1"}
    await service.set_override(clerk, world.sid, martin, "", "", today())  # back to the QF
    band = await Family.select(Family.tariff_band).where(Family.id == martin).first()
    assert band == {"tariff_band": "QF3"}
    assert await AuditLog.count().where(AuditLog.action == "quotient.override") == 2
    elsewhere = await make_world("Mairie de Loinville", prefix="b")
    with pytest.raises(NotFound):
        await service.set_override(
            clerk, world.sid, int(elsewhere.family.family.id), "QF1", "x", today()
        )
