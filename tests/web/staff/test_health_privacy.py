"""Health data in the back office (RGPD art. 9): every staff read of the pending-changes
list, whose lines carry allergies, diets and PAI, is audited, on screen and exported."""

from __future__ import annotations

import json

from portal.tables import AuditLog, PendingChange
from tests.web.conftest import Browser
from tests.web.staff.conftest import Office


async def _audited(action: str) -> list[dict[str, object]]:
    rows = await AuditLog.select(AuditLog.after, AuditLog.staff_login).where(
        AuditLog.action == action
    )
    return [
        {"after": json.loads(r["after"]) if isinstance(r["after"], str) else r["after"],
         "login": r["staff_login"]}
        for r in rows
    ]  # fmt: skip


async def test_the_pending_changes_list_is_audited_when_it_shows_health_data(
    agent: Browser, office: Office
) -> None:
    world = office.mine
    base = f"/gestion/s/{world.sid}/dossiers"
    # Nothing pending: the list shows no health data, and nothing is recorded.
    assert (await agent.get(f"{base}?liste=modifications")).status_code == 200
    assert await _audited("file.changes_view") == []

    paolo = world.family.people[0]
    change = PendingChange(
        family=world.family.family.id,
        person=paolo.id,
        changes={"allergies": ["", "Arachide"]},
        status="pending",
    )
    await change.save()
    page = await agent.get(f"{base}?liste=modifications")
    assert "Arachide" in page.text
    [seen] = await _audited("file.changes_view")
    assert seen["login"] == "agent-a"
    assert seen["after"] == {
        "changes": [change.id],
        "families": [world.family.family.id],
    }
    csv = await agent.get(f"{base}?liste=modifications&format=csv")
    assert "Arachide" in csv.content.decode("utf-8-sig")
    [exported] = await _audited("file.changes_export")
    assert exported["after"]["format"] == "csv"  # type: ignore[index]
    # The other lists carry no health data: not recorded as health reads.
    await agent.get(f"{base}?liste=documents")
    assert len(await _audited("file.changes_view")) == 1
