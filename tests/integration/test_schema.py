"""The migrations give both engines the same guarantees."""

from __future__ import annotations

from datetime import date, time

import pytest

from portal.tables import (
    Activity,
    ActivityDay,
    LedgerEntry,
    Reservation,
    Structure,
    Wallet,
    WalletType,
)
from tests.conftest import Database
from tests.factories import make_family


async def test_runs_on_the_engine_it_claims(db: Database) -> None:
    if db.kind == "postgresql":
        [row] = await db.engine.run_ddl("SELECT version() AS v")
        assert "PostgreSQL" in row["v"]
    else:
        [row] = await db.engine.run_ddl("SELECT sqlite_version() AS v")
        assert row["v"].startswith("3.")


async def _day(capacity: int | None = 2, waitlist: int | None = 1) -> ActivityDay:
    setup = await make_family()
    wallet_type = await WalletType.objects().first()
    assert wallet_type is not None
    activity = Activity(
        structure=setup.structure.id,
        wallet_type=wallet_type.id,
        name="ALSH",
        start_time=time(8, 30),
        end_time=time(17, 30),
        capacity=capacity,
        waitlist_capacity=waitlist,
    )
    await activity.save()
    day = ActivityDay(
        activity=activity.id, day=date(2026, 12, 2), capacity=capacity, waitlist_capacity=waitlist
    )
    await day.save()
    return day


async def test_counters_cannot_pass_capacity(db: Database) -> None:
    day = await _day(capacity=2, waitlist=1)
    await ActivityDay.update({ActivityDay.accepted_count: 2}).where(ActivityDay.id == day.id)
    with pytest.raises(Exception, match="activity_day_accepted_within_capacity"):
        await ActivityDay.update({ActivityDay.accepted_count: 3}).where(ActivityDay.id == day.id)
    with pytest.raises(Exception, match="activity_day_waitlisted_within_capacity"):
        await ActivityDay.update({ActivityDay.waitlisted_count: 2}).where(ActivityDay.id == day.id)
    with pytest.raises(Exception, match="activity_day_accepted_within_capacity"):
        await ActivityDay.update({ActivityDay.accepted_count: -1}).where(ActivityDay.id == day.id)
    unlimited = await _unlimited_day()
    await ActivityDay.update({ActivityDay.accepted_count: 500}).where(
        ActivityDay.id == unlimited.id
    )


async def _unlimited_day() -> ActivityDay:
    other = await ActivityDay.objects().first()
    assert other is not None
    day = ActivityDay(
        activity=other.activity, day=date(2026, 12, 9), capacity=None, waitlist_capacity=None
    )
    await day.save()
    return day


async def test_one_live_request_per_person_and_day(db: Database) -> None:
    day = await _day()
    structure = await Structure.objects().first()
    assert structure is not None
    family = await make_family(login="autre", name="MARTIN Sophie", structure=structure)
    person = family.people[0]

    def request(status: str, rank: int | None = None) -> Reservation:
        return Reservation(
            family=family.family.id,
            person=person.id,
            activity_day=day.id,
            status=status,
            waitlist_rank=rank,
        )

    await request("cancelled").save()
    await request("accepted").save()
    with pytest.raises(Exception, match=r"(?i)unique"):
        await request("waitlisted", 1).save()
    with pytest.raises(Exception, match="reservation_status_valid"):
        await request("maybe").save()


async def test_ledger_sign_matches_kind(db: Database) -> None:
    setup = await make_family()
    wallet_type = await WalletType.objects().first()
    assert wallet_type is not None
    wallet = Wallet(family=setup.family.id, wallet_type=wallet_type.id)
    await wallet.save()

    def entry(kind: str, amount: int) -> LedgerEntry:
        return LedgerEntry(
            wallet=wallet.id,
            family=setup.family.id,
            kind=kind,
            amount_cents=amount,
            entry_date=date(2026, 11, 2),
        )

    await entry("credit", 1000).save()
    await entry("debit", -422).save()
    with pytest.raises(Exception, match="ledger_entry_sign"):
        await entry("debit", 422).save()
    with pytest.raises(Exception, match="ledger_entry_sign"):
        await entry("credit", 0).save()


async def test_a_document_type_condition_must_be_known(db: Database) -> None:
    """A typo in the raw tables (« handicap ») would have asked the document of every
    child: the database refuses it, on insert and on update."""
    from portal.tables import DocumentType

    setup = await make_family()
    known = DocumentType(
        structure=setup.structure.id, code="mdph", name="Notification MDPH", per_child=True,
        required_when="disability",
    )  # fmt: skip
    await known.save()
    with pytest.raises(Exception, match="document_type_required_when_known"):
        await DocumentType.insert(
            DocumentType(structure=setup.structure.id, code="x", name="X", required_when="handicap")
        )
    with pytest.raises(Exception, match="document_type_required_when_known"):
        await DocumentType.update({DocumentType.required_when: "PAI"}).where(
            DocumentType.id == known.id
        )
    await DocumentType.update({DocumentType.required_when: ""}).where(DocumentType.id == known.id)


async def test_the_condition_rule_keeps_older_rows_as_they_were_read(db: Database) -> None:
    """An installation with a typo in a document type (read as « always ») upgrades: the
    value becomes the empty one, which says « always », and then the rule holds."""
    import importlib.util
    from pathlib import Path

    from portal.tables import DocumentType

    path = Path(__file__).parents[2] / "migrations" / "portal_2026_12_07t19_00_00_000000.py"
    spec = importlib.util.spec_from_file_location("required_when_rule", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    sqlite = db.kind == "sqlite"
    undo = (
        [f"DROP TRIGGER {migration.NAME}_insert", f"DROP TRIGGER {migration.NAME}_update"]
        if sqlite
        else [f"ALTER TABLE document_type DROP CONSTRAINT {migration.NAME}"]
    )
    for statement in undo:
        await db.engine.run_ddl(statement)
    setup = await make_family()
    typo = DocumentType(structure=setup.structure.id, code="x", name="X", required_when="handicap")
    await typo.save()
    for statement in migration._statements(sqlite):
        await db.engine.run_ddl(statement)
    row = await DocumentType.objects().get(DocumentType.id == typo.id)
    assert row is not None and row.required_when == ""
    with pytest.raises(Exception, match=migration.NAME):
        await DocumentType.update({DocumentType.required_when: "handicap"}).where(
            DocumentType.id == typo.id
        )
