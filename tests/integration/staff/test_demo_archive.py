"""The demo shows an archived school year: one activity of the previous July, archived by
its rollover, that staff consult and cannot change and that families no longer see."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from portal.demo import load_demo
from portal.demo_archive import ARCHIVED_NAME
from portal.domain.booking.scope import load_scope
from portal.domain.staff.archive import Archived, refuse_if_archived
from portal.tables import AccountFamily, Activity, ActivityDay
from tests.conftest import Database


async def test_demo_has_an_archived_activity_hidden_from_families(
    db: Database, tmp_path: Path
) -> None:
    await load_demo(date(2026, 12, 1), documents_dir=tmp_path)
    archived = await Activity.objects().get(Activity.name == ARCHIVED_NAME)
    assert archived is not None and archived.archived_at is not None and not archived.active
    days = await ActivityDay.objects().where(ActivityDay.activity == archived.id)
    assert days and all(d.day.year == 2025 and d.day.month == 7 for d in days)
    with pytest.raises(Archived, match="reconduction du 25/08/2025"):
        await refuse_if_archived(day_id=int(days[0].id))
    row = await (
        AccountFamily.select(AccountFamily.family)
        .where(AccountFamily.account._.login == "dupont")
        .first()
    )
    assert row is not None
    scope = await load_scope(int(row["family"]))
    assert ARCHIVED_NAME not in {a.name for a in scope.activities.values()}
