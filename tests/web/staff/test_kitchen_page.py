"""The kitchen sheet page and its address form, through HTTP."""

from __future__ import annotations

from portal.tables import AuditLog
from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import Office
from tests.web.staff.test_pages import plain


async def test_the_kitchen_sheet_of_a_day_and_its_address(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}/cuisine"
    day = office.mine.full_day.day
    page = plain(await agent.get(f"{base}?jour={day.isoformat()}"))
    assert "ALSH 6-12 - Mercredi Journée : 2 enfants" in page
    assert "Repas standard" in page and "Dont PAI en cours" in page
    tomorrow = await agent.get(base)  # tomorrow by default
    assert tomorrow.status_code == 200 and "Effectifs du" in plain(tomorrow)

    bad = await agent.submit(f"{base}/adresse", {"adresse": "cuisine@"}, page=base)
    assert bad.status_code == 400 and "n'est pas une adresse e-mail valide" in plain(bad)
    good = await agent.submit(f"{base}/adresse", {"adresse": "cuisine@example.fr"}, page=base)
    assert good.status_code == 303
    assert "Les effectifs seront envoyés à cuisine@example.fr" in plain(await agent.get(base))
    assert await AuditLog.count().where(AuditLog.action == "kitchen.settings") == 1
