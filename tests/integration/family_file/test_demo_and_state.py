"""The derived "dossier complet" on both engines, on the demo data and on plain rows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from portal.demo import load_demo
from portal.domain.booking.scope import load_scope
from portal.domain.family_file import service as family_file
from portal.tables import Account, AccountFamily, ChildFile, FamilyDocument, Person
from tests.conftest import Database
from tests.factories import add_file_rules, make_family


async def _family_of(login: str, structure_name_part: str = "") -> int:
    rows = await (
        AccountFamily.select(AccountFamily.family, AccountFamily.family._.structure._.name)
        .where(AccountFamily.account._.login == login)
        .output(nested=False)
    )
    return next(
        int(r["family"]) for r in rows if structure_name_part in str(r["family.structure.name"])
    )


async def test_demo_files(db: Database, tmp_path: Path) -> None:
    await load_demo(date(2026, 12, 1), documents_dir=tmp_path)
    dupont = await _family_of("dupont", "Mairie")
    durand = await _family_of("durand")
    martin = await _family_of("martin")
    today = date(2026, 12, 1)
    assert (await family_file.file_state(dupont, today)).complete
    assert (await family_file.file_state(martin, today)).complete
    state = await family_file.file_state(durand, today)
    assert not state.complete
    assert [m.text for m in state.missing] == [
        "Attestation CAF / quotient familial : refusé",
        "Assurance extrascolaire (Hugo) : en cours de vérification",
    ]
    amalia = await Person.objects().get(Person.first_name == "Amalia")
    assert amalia is not None
    file = await ChildFile.objects().get(ChildFile.person == amalia.id)
    assert file is not None and file.pai and file.pai_end is not None
    refused = await FamilyDocument.objects().get(FamilyDocument.status == "refused")
    assert refused is not None and "trois mois" in refused.reason
    stored = await family_file.family_document(tmp_path, durand, int(refused.id))
    assert stored.path.read_bytes().startswith(b"%PDF-")
    assert await Account.count() >= 3


async def test_expiry_and_pai_documents(db: Database) -> None:
    setup = await make_family(children=("Paolo",))
    ids = await add_file_rules(setup.structure, fields=())
    paolo = setup.people[0]
    today = date(2026, 12, 1)
    for code, person in (("caf", None), ("assurance", paolo.id)):
        await FamilyDocument(
            family=setup.family.id, person=person, document_type=ids[code], filename="a.pdf",
            content_type="application/pdf", size_bytes=1, sha256="0", storage_key=code,
            status="valid", valid_until=today + timedelta(days=10),
        ).save()  # fmt: skip
    assert (await family_file.file_state(setup.family.id, today)).complete
    later = await family_file.file_state(setup.family.id, today + timedelta(days=11))
    assert [m.text for m in later.missing] == [
        "Attestation CAF/quotient familial : expiré",
        "Assurance extrascolaire (Paolo) : expiré",
    ]
    await ChildFile(person=paolo.id, pai=True).save()
    with_pai = await family_file.file_state(setup.family.id, today)
    assert [m.text for m in with_pai.missing] == ["PAI (Paolo) : à fournir"]
    scope = await load_scope(setup.family.id)
    [reason] = scope.person_block_reasons(paolo.id)
    assert "Il manque : PAI (Paolo) : à fournir." in reason.message


async def test_without_rules_the_staff_flag_counts(db: Database) -> None:
    setup = await make_family()
    assert (await family_file.file_state(setup.family.id)).complete
    setup.family.file_complete = False
    await setup.family.save()
    state = await family_file.file_state(setup.family.id)
    assert not state.complete and not state.derived and state.missing == ()
