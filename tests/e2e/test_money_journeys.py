"""The régie in a real browser on the demo: DUPONT downloads last month's statement and a
receipt from Historiques, the agent prepares this month's direct debit and downloads the
pain.008 file, MARTIN gets one low-balance e-mail and not two."""

from __future__ import annotations

import asyncio
import io
import os
import re
from email.header import decode_header, make_header

import pytest
import sepaxml
import xmlschema
from pypdf import PdfReader

from portal import clock
from portal.domain.money.rules import Month
from portal.domain.sepa import rules as sepa_rules
from portal.domain.sepa import service as sepa
from portal.tables import LedgerEntry, OutboxEmail, Structure
from tests.conftest import SmtpSink
from tests.e2e.conftest import Journey

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

SCHEMA = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.008.001.02.xsd")


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"[ \u00a0\u202f]+", " ", "\n".join(p.extract_text() for p in reader.pages))


async def _download(journey: Journey, name: str) -> bytes:
    async with journey.page.expect_download() as info:
        await journey.page.get_by_role("link", name=re.compile(name)).first.click()
    download = await info.value
    path = await download.path()
    return path.read_bytes()


def _header(value: object) -> str:
    return str(make_header(decode_header(str(value or ""))))


def _martin_alerts(smtp_server: SmtpSink) -> list[str]:
    subjects = [(_header(m["To"]), _header(m["Subject"])) for m in list(smtp_server.messages)]
    return [s for to, s in subjects if "sophie.martin@example.fr" in to and "Solde bas" in s]


async def test_dupont_statement_and_receipt_then_the_debit_run(
    journey: Journey, smtp_server: SmtpSink
) -> None:
    page = journey.page
    today = clock.local_today("Europe/Paris")
    last_month = Month.of(today).shift(-1)

    await journey.login("dupont", "Demo-Dupont-2026")
    await journey.goto(f"/historiques?mois={last_month.key}")
    assert "Documents" in await page.locator("main").inner_text()
    await journey.shot("historiques-documents")
    statement = _pdf_text(await _download(journey, "Relevé de compte"))
    assert f"Relevé de compte · {last_month.label}" in statement
    assert "Mairie de CarteVille" in statement and "33000 CarteVille" in statement
    rows = await LedgerEntry.select(LedgerEntry.amount_cents).where(
        (LedgerEntry.family == 1) & (LedgerEntry.entry_date <= last_month.last_day)
    )
    closing = sum(int(r["amount_cents"]) for r in rows)
    euros, cents = divmod(abs(closing), 100)
    assert (
        f"{'-' if closing < 0 else ''}{euros:,}".replace(",", " ") + f",{cents:02d} €" in statement
    )
    receipt = _pdf_text(await _download(journey, "Reçu du règlement"))
    assert "Reçu de paiement n°" in receipt and "DUPONT Jean-Paul" in receipt

    # The agent: this month's debit if it can still be notified in time, else next month's.
    structure = await Structure.select(Structure.id).where(Structure.slug == "carteville").first()
    assert structure is not None
    sid = int(structure["id"])
    month = Month.of(today)
    if not sepa_rules.can_notify(today, sepa_rules.collection_date(month.first_day, 20), 14):
        month = month.shift(1)
    await journey.goto("/gestion/connexion")
    await page.fill("#f-identifier", "gestion")
    await page.fill("#f-password", "Demo-Gestion-2026")
    await page.click("main button[type=submit]")
    await page.wait_for_load_state()
    await journey.goto(f"/gestion/s/{sid}/regie/prelevement?mois={month.key}")
    assert "DUPONT Jean-Paul" in await page.locator("#sepa-plan").inner_text()
    await page.get_by_role(
        "button", name=f"Préparer le prélèvement de {month.label.lower()}"
    ).click()
    await page.wait_for_load_state()
    assert f"Prélèvement de {month.label.lower()}" in await page.locator("main").inner_text()
    await journey.shot("prelevement-prepare")
    xml = await _download(journey, "Télécharger le fichier pour la banque")
    xmlschema.XMLSchema(SCHEMA).validate(xml.decode())
    run = (await sepa.structure_runs(sid))[0]
    assert (
        f"<CtrlSum>{run.total_cents // 100}.{run.total_cents % 100:02d}</CtrlSum>" in xml.decode()
    )

    # MARTIN: the start-up check e-mailed one alert; checking again sends none.
    for _ in range(100):
        if _martin_alerts(smtp_server):
            break
        await asyncio.sleep(0.1)
    assert len(_martin_alerts(smtp_server)) == 1
    await journey.goto(f"/gestion/s/{sid}/regie/relances")
    await page.get_by_role("button", name="Vérifier les soldes bas maintenant").click()
    await page.wait_for_load_state()
    assert "0 alerte(s) envoyée(s)" in await page.locator("main").inner_text()
    # MARTIN's one low-balance alert in the outbox, already sent: it is all there will be.
    alerts = await OutboxEmail.select(OutboxEmail.status).where(
        OutboxEmail.dedupe_key.like("low-balance:%")
        & OutboxEmail.to_addresses.like("%sophie.martin@example.fr%")
    )
    assert [a["status"] for a in alerts] == ["sent"]
    assert len(_martin_alerts(smtp_server)) == 1
