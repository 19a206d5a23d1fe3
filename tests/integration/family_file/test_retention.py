"""Retention: documents and health data erased after the structure's period, once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from portal.domain.family_file import privacy
from portal.domain.family_file import service as family_file
from portal.tables import BookingPeriod, ChildFile, FamilyDocument, FileSettings, PeriodRequest
from tests.conftest import Database
from tests.factories import add_file_rules, make_family


async def test_purge_erases_inactive_families_only(db: Database, tmp_path: Path) -> None:
    old = await make_family(login="ancien", children=("Paolo",))
    ids = await add_file_rules(old.structure, fields=())
    await FileSettings.update({FileSettings.retention_months: 12}).where(
        FileSettings.structure == old.structure.id
    )
    recent = await make_family(login="recent", structure=old.structure, name="MARTIN Léa")
    for setup in (old, recent):
        await family_file.upload_document(
            tmp_path, setup.family.id, None, ids["caf"], None, "caf.pdf", b"%PDF-1.4 x"
        )
        await ChildFile(
            person=setup.people[0].id, allergies="Arachide", pai=True, disability=True,
            disability_end=date(2031, 8, 31),
        ).save()  # fmt: skip
    # Both families were created two years before "today"; only the other one books since.
    today = date.today().replace(year=date.today().year + 2)
    recent_doc = await FamilyDocument.objects().get(FamilyDocument.family == recent.family.id)
    assert recent_doc is not None
    from portal.tables import Family, Reservation
    from tests.factories import make_activity, make_days

    activity = await make_activity(old.structure)
    [day] = await make_days(activity, today)
    await Reservation(
        family=recent.family.id, person=recent.people[0].id, activity_day=day.id, status="accepted"
    ).save()
    # A booking period ranked both children by health criteria, among others.
    period = BookingPeriod(
        structure=old.structure.id, name="Hiver", first_day=today, last_day=today,
        opens_at=datetime(2020, 1, 6, tzinfo=UTC), mode="priority", seed="graine",
    )  # fmt: skip
    await period.save()
    for setup in (old, recent):
        await PeriodRequest(
            period=period.id, family=setup.family.id, person=setup.people[0].id,
            activity_day=day.id, criteria_values="resident=1;disability=1;pai=1;spread=0",
        ).save()  # fmt: skip
    outcome = await privacy.purge_expired(tmp_path, today)
    assert (outcome.families, outcome.documents, outcome.children) == (1, 1, 1)
    erased = await FamilyDocument.objects().get(FamilyDocument.family == old.family.id)
    assert erased is not None and erased.status == "deleted"
    assert not family_file.document_path(tmp_path, erased.storage_key).exists()
    child = await ChildFile.objects().get(ChildFile.person == old.people[0].id)
    assert child is not None and child.allergies == "" and not child.pai
    assert not child.disability and child.disability_end is None
    assert child.anonymised_at is not None
    kept = await ChildFile.objects().get(ChildFile.person == recent.people[0].id)
    assert kept is not None and kept.allergies == "Arachide" and kept.disability
    assert family_file.document_path(tmp_path, recent_doc.storage_key).exists()
    values = {
        int(r["person"]): r["criteria_values"]
        for r in await PeriodRequest.select(PeriodRequest.person, PeriodRequest.criteria_values)
    }
    assert values == {
        old.people[0].id: "resident=1;spread=0",
        recent.people[0].id: "resident=1;disability=1;pai=1;spread=0",
    }
    again = await privacy.purge_expired(tmp_path, today)
    assert again == privacy.PurgeOutcome()
    assert await Family.count() == 2
