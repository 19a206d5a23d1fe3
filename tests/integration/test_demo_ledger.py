"""The demo's ledger is the one the domain's rules write: posting finds nothing left to bill."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from portal.demo import load_demo
from portal.domain.money import service as money
from portal.tables import LedgerEntry, Structure
from tests.conftest import Database


async def test_posting_after_the_demo_bills_nothing_new(db: Database, tmp_path: Path) -> None:
    today = date(2026, 12, 1)
    await load_demo(today, documents_dir=tmp_path)
    before = await LedgerEntry.count()
    debits = await LedgerEntry.count().where(LedgerEntry.kind == "debit")

    for row in await Structure.select(Structure.id):
        assert await money.post_consumptions(int(row["id"]), today - timedelta(days=1)) == 0

    assert debits > 0 and await LedgerEntry.count() == before
