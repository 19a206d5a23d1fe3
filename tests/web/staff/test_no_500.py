"""Integers beyond the database in staff URLs and forms: a French 404/400, never a 500."""

from __future__ import annotations

from tests.conftest import Database
from tests.web.conftest import Browser, text
from tests.web.staff.conftest import Office, staff_login
from tests.web.test_no_500 import HUGE


async def test_integers_beyond_the_database_in_urls_and_forms(
    db: Database, browser: Browser, office: Office
) -> None:
    await staff_login(browser, "agent-a")
    sid = office.mine.sid
    for value in HUGE:
        for url in (
            f"/gestion/s/{value}",
            f"/gestion/s/{sid}/familles/{value}",
            f"/gestion/s/{sid}/activites/{value}",
        ):
            response = await browser.get(url, headers={"accept": "text/html"})
            assert response.status_code == 404, url
            assert "Page introuvable" in text(response)
        assert (await browser.get(f"/gestion?structure={value}")).status_code == 404
        response = await browser.submit(
            f"/gestion/s/{sid}/presences/1",
            {"activite": value, "jour": "x"},
            page=f"/gestion/s/{sid}",
        )
        assert response.status_code < 500
    assert (await browser.get(f"/gestion/s/{sid}")).status_code == 200
