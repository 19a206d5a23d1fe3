"""The archived school year over HTTP: a staff change to it is a French 409, nothing
written; its pages still open."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.tables import Activity, ActivityDay
from tests.web.conftest import Browser, text
from tests.web.staff.conftest import Office


async def test_a_change_to_an_archived_day_is_a_clear_409(agent: Browser, office: Office) -> None:
    world = office.mine
    day = world.full_day
    await Activity.update(
        {Activity.active: False, Activity.archived_at: datetime(2027, 8, 25, 8, 0, tzinfo=UTC)}
    ).where(Activity.id == day.activity)
    base = f"/gestion/s/{world.sid}"
    refused = await agent.submit(
        f"{base}/journees/{day.id}/ouverture", {"ouvert": "0"}, page=f"{base}/activites"
    )
    assert refused.status_code == 409
    assert "année scolaire archivée (reconduction du 25/08/2027)" in text(refused)
    kept = await ActivityDay.objects().get(ActivityDay.id == day.id)
    assert kept is not None and kept.is_open
    settings = await agent.get(f"{base}/activites/{day.activity}")
    assert '<fieldset class="read-only-fields" disabled>' in settings.text
    for page in (f"{base}/activites/{day.activity}/journees", f"{base}/activites/{day.activity}"):
        consulted = await agent.get(page)
        assert consulted.status_code == 200
        assert "elle se consulte, elle ne se modifie plus" in text(consulted)
        # Nothing to submit: the fields are disabled, the day tools and generation gone.
        assert "Générer les journées" not in consulted.text
        assert f"/journees/{day.id}/ouverture" not in consulted.text
    listed = await agent.get(f"{base}/activites")
    assert "Archivée" in text(listed)
