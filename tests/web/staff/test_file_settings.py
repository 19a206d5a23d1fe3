"""The family-file settings page over HTTP: staff set the yearly update and the rules; bad
input is a 400 with a French message; another structure's page is a 404."""

from __future__ import annotations

from datetime import timedelta

from portal import clock
from portal.domain.file_review import file_settings as settings
from portal.tables import OutboxEmail
from tests.web.conftest import Browser, text
from tests.web.staff.conftest import Office


async def test_staff_set_the_yearly_update_from_the_settings_page(
    agent: Browser, office: Office
) -> None:
    world = office.mine
    page_url = f"/gestion/s/{world.sid}/dossiers/reglages"
    lists = await agent.get(f"/gestion/s/{world.sid}/dossiers")
    assert page_url in lists.text
    page = await agent.get(page_url)
    assert page.status_code == 200 and "Mise à jour annuelle du dossier" in text(page)
    deadline = clock.local_today(world.structure.timezone) + timedelta(days=30)
    saved = await agent.submit(
        page_url,
        {
            "date_limite": deadline.isoformat(),
            "message": "Pensez à l'assurance.",
            "champs": ["address", "phone"],
            "conservation": "36",
            "prevenir": "1",
        },
        page=page_url,
    )
    assert saved.status_code == 303
    view = await settings.file_settings(world.sid)
    assert view == settings.FileSettingsView(
        ("address", "phone"), deadline, "Pensez à l'assurance.", 36
    )
    page = await agent.get(page_url)
    assert "famille(s) prévenue(s) par e-mail" in text(page)
    assert f'value="{deadline.isoformat()}"' in page.text
    assert await OutboxEmail.count().where(OutboxEmail.dedupe_key.like("file-campaign:%")) >= 1

    bad = await agent.submit(page_url, {"conservation": "9999"}, page=page_url)
    assert bad.status_code == 400 and "entre 1 et 120" in text(bad)
    assert (await settings.file_settings(world.sid)).retention_months == 36
    other = await agent.get(f"/gestion/s/{office.theirs.sid}/dossiers/reglages")
    assert other.status_code == 404
