"""The nights' exports in the browser: listed on the Transmission page, downloaded as CSV
and XLSX from the structure's own folder, never by path."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook

from portal.domain.exports.tabular import Table, write_csv_file
from portal.domain.transmission.exports import night_exports, parse_download
from tests.web.conftest import Browser, LiveServer, text
from tests.web.staff.conftest import Office


def test_download_names_are_parsed_never_used_as_paths() -> None:
    assert parse_download("2026-12-01.csv") == (date(2026, 12, 1), "csv")
    assert parse_download("2026-12-01.xlsx") == (date(2026, 12, 1), "xlsx")
    for bad in ("../2026-12-01.csv", "2026-13-01.csv", "2026-12-01.pdf", "x", "2026-12-01.csv/"):
        assert parse_download(bad) is None


async def test_last_night_is_downloaded_as_csv_and_xlsx(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    ran = await agent.submit(f"{base}/transmission", {})
    assert ran.status_code == 303
    # An older night of another structure: never offered here.
    theirs = live.settings.exports_dir / str(office.theirs.structure.slug)
    write_csv_file(theirs / "transmission-2026-11-30.csv", Table(("a",), [("b",)]))
    page = await agent.get(f"{base}/transmission")
    assert page.status_code == 200
    assert str(live.settings.exports_dir) not in page.text  # no server path shown
    links = re.findall(rf'href="({base}/transmission/exports/[\d-]+\.(?:csv|xlsx))"', page.text)
    assert len(links) == 2, page.text
    [(night, _)] = {
        (n.night, n.formats)
        for n in night_exports(live.settings.exports_dir, str(office.mine.structure.slug))
    }
    csv_link = next(link for link in links if link.endswith(".csv"))
    csv = await agent.get(csv_link)
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Activité;")
    assert any("DUPONTA" in line for line in lines[1:])
    xlsx = await agent.get(csv_link.replace(".csv", ".xlsx"))
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == len(lines)
    assert rows[0] == tuple(lines[0].split(";"))
    assert (await agent.get(f"{base}/transmission/exports")).status_code == 200
    for bad in ("2026-11-30.csv", "..%2F..%2Fsecret_key", "2026-12-01.pdf", f"{night}.xml"):
        missing = await agent.get(f"{base}/transmission/exports/{bad}")
        assert missing.status_code == 404, bad
    other = await agent.get(f"/gestion/s/{office.theirs.sid}/transmission/exports/2026-11-30.csv")
    assert other.status_code == 404
    assert "Cet export" in text(missing)


async def test_staff_lists_export_what_their_filters_show(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    families = await agent.get(f"{base}/familles")
    assert f"{base}/familles/export?q=&amp;format=xlsx" in families.text
    csv = await agent.get(f"{base}/familles/export?q=martin&format=csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Famille;Tranche;Enfants;Identifiants;Dossier complet"
    assert len(lines) == 2 and lines[1].startswith("MARTINA Sophie;")
    xlsx = await agent.get(f"{base}/familles/export?format=xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][0] == "DUPONTA Jean-Paul" and rows[1][2] == 3

    day = office.mine.full_day.day
    activity = office.mine.activity.id
    sheet = await agent.get(f"{base}/presences/export?activite={activity}&jour={day}&format=xlsx")
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Date", "Activité", "Enfant", "Famille")
    assert len(rows) == 3  # the two accepted children of that day

    waiting = await agent.get(f"{base}/decisions/export?activite=&jour=&format=csv")
    lines = waiting.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 4  # two waitlisted, two pending
    assert (await agent.get(f"{base}/decisions/export?format=pdf")).status_code == 400

    page = f"{base}/reglements?famille={office.mine.family.family.id}"
    form = await agent.get(page)
    key = re.search(r'name="cle" value="([^"]+)"', form.text)
    wallet = re.search(r'name="porte_monnaie">\s*<option value="(\d+)"', form.text)
    assert key and wallet
    await agent.submit(
        f"{base}/reglements/{office.mine.family.family.id}",
        {"cle": key.group(1), "porte_monnaie": wallet.group(1), "mode": "ESPECES",
         "montant": "=1+2", "piece": "", "payeur": "=HYPERLINK()", "banque": ""},
        page=page,
    )  # fmt: skip
    await agent.submit(
        f"{base}/reglements/{office.mine.family.family.id}",
        {"cle": key.group(1), "porte_monnaie": wallet.group(1), "mode": "ESPECES",
         "montant": "20", "piece": "", "payeur": "=HYPERLINK()", "banque": ""},
        page=page,
    )  # fmt: skip
    money = await agent.get(f"{base}/reglements/export?format=xlsx")
    rows = list(load_workbook(io.BytesIO(money.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][3] == "Espèces" and rows[1][5] == "'=HYPERLINK()" and rows[1][7] == 20


async def test_bookings_of_a_day_or_a_period_are_exported(
    live: LiveServer, agent: Browser, office: Office
) -> None:
    base = f"/gestion/s/{office.mine.sid}"
    day = office.mine.full_day.day
    activity = office.mine.activity.id
    page = await agent.get(f"{base}/presences?activite={activity}&jour={day}")
    assert f'action="{base}/reservations/export"' in page.text
    csv = await agent.get(f"{base}/reservations/export?du={day}&au={day}&format=csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Date;Activité;Enfant;Famille;État;Rang;Arrivée;Départ;Réservé par"
    # The same day's attendance list counts its accepted children; waiting ones come too.
    accepted = [line for line in lines[1:] if ";Acceptée;" in line]
    assert len(accepted) == 2
    xlsx = await agent.get(
        f"{base}/reservations/export?du={day}&au={day}&activite={activity}&format=xlsx"
    )
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Date" and len(rows) == len(lines)
    assert all(row[1] == office.mine.activity.name for row in rows[1:])
    # Another structure's activity is not ours to list.
    theirs = await agent.get(
        f"{base}/reservations/export?activite={office.theirs.activity.id}&format=csv"
    )
    assert theirs.status_code == 404
    assert (await agent.get(f"{base}/reservations/export?format=pdf")).status_code == 400
