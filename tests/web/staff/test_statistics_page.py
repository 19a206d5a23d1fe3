"""The statistics page, its SVG charts and its XLSX export, re-read."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import Office
from tests.web.staff.test_pages import plain


async def test_statistics_page_and_xlsx_export(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}/statistiques"
    month = office.mine.full_day.day.strftime("%Y-%m")
    page = await agent.get(f"{base}?du={month}&au={month}")
    assert page.status_code == 200
    assert "<svg" in page.text and "style=" not in page.text.split("<main", 1)[1]
    assert "Jours de présence par activité" in plain(page)
    export = await agent.get(f"{base}?du={month}&au={month}&format=xlsx&tableau=activites")
    assert export.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Activité", "Mois", "Groupe")
    [total] = [r for r in rows[1:] if r[2] == "Tous"]
    # Two accepted on the full day, and yesterday's one when it falls in the same month.
    same_month = office.mine.past_day.day.strftime("%Y-%m") == month
    assert total[0] == "ALSH 6-12 - Mercredi Journée" and total[5] == 2 + same_month
    bad = await agent.get(f"{base}?du=pas-un-mois")
    assert bad.status_code == 200 and "AAAA-MM" in plain(bad)
