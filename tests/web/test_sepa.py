"""Direct debit over HTTP: a parent signs, downloads and revokes a mandate; staff set the
creditor, record a paper mandate, prepare the month and download the pain.008 file."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import sepaxml
import xmlschema

from portal.domain.money import service as money
from portal.domain.money.rules import Month
from portal.tables import OutboxEmail, SepaMandate
from tests.conftest import Database
from tests.factories import PASSWORD, STAFF_PASSWORD, make_staff, money_setup, today
from tests.integration.papers.test_papers import pdf_text
from tests.web.conftest import Browser, text

SCHEMA = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.008.001.02.xsd")
FAMILY_IBAN = "FR1420041010050500013M02606"


async def _staff_settings(browser: Browser, base: str) -> None:
    response = await browser.submit(
        f"{base}/parametres",
        {"nom": "Mairie de Testville", "ics": "FR72ZZZ123456",
         "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "", "jour": "20", "delai": "14",
         "base": "debt", "actif": "1"},
        page=base,
    )  # fmt: skip
    assert response.status_code == 303, text(response)


async def test_parent_signs_downloads_and_revokes_a_mandate(db: Database, browser: Browser) -> None:
    setup = await money_setup(login="dupont")
    other = await money_setup(login="voisin")
    await make_staff("regisseur", setup.structure)
    async with Browser(base_url=str(browser.base_url), follow_redirects=False) as agent:
        await agent.submit(
            "/gestion/connexion", {"identifier": "regisseur", "password": STAFF_PASSWORD}
        )
        await _staff_settings(agent, f"/gestion/s/{setup.structure.id}/regie/prelevement")
    other_mandate = SepaMandate(
        family=other.family_id, reference="AUTRE-1", holder="VOISIN", iban=FAMILY_IBAN,
        bic="PSSTFRPPXXX", signed_on=today(),
    )  # fmt: skip
    await other_mandate.save()

    await browser.login("dupont", PASSWORD)
    assert "/prelevement" in (await browser.get("/paiement")).text
    page = await browser.get("/prelevement")
    assert "Signer un mandat de prélèvement SEPA" in text(page) and "FR72ZZZ123456" in text(page)
    refused = await browser.submit(
        "/prelevement", {"titulaire": "DUPONT", "iban": "FR76 1234", "bic": "", "accord": "1"}
    )
    assert refused.status_code == 400 and "n'est pas un IBAN valide" in text(refused)
    unticked = await browser.submit(
        "/prelevement", {"titulaire": "DUPONT", "iban": FAMILY_IBAN, "bic": ""}
    )
    assert unticked.status_code == 400 and "Cochez la case" in text(unticked)
    signed = await browser.submit(
        "/prelevement",
        {"titulaire": "DUPONT Jean-Paul", "iban": FAMILY_IBAN, "bic": "", "accord": "1"},
    )
    assert signed.status_code == 303
    page = text(await browser.get("/prelevement"))
    reference = f"PF{setup.structure.id}-{setup.family_id:06d}-01"
    assert reference in page and "FR14 **** **** **** **** ***2 606" in page
    mandate_id = int(re.search(r"/prelevement/mandat/(\d+)", page).group(1))  # type: ignore[union-attr]
    document = await browser.get(f"/prelevement/mandat/{mandate_id}")
    assert document.status_code == 200 and document.headers["content-type"] == "application/pdf"
    content = pdf_text(document.content)
    assert "Mandat de prélèvement SEPA" in content and reference in content
    assert "FR72ZZZ123456" in content and "8 semaines" in content and "14 jours" in content
    assert (await browser.get(f"/prelevement/mandat/{other_mandate.id}")).status_code == 404
    forged = await browser.submit("/prelevement/revoquer", {"mandat": str(other_mandate.id)},
                                  page="/prelevement")  # fmt: skip
    assert forged.status_code == 404
    revoked = await browser.submit(
        "/prelevement/revoquer", {"mandat": str(mandate_id)}, page="/prelevement"
    )
    assert revoked.status_code == 303
    assert "Signer un mandat" in text(await browser.get("/prelevement"))


async def test_staff_run_the_month_and_download_the_xml(db: Database, browser: Browser) -> None:
    setup = await money_setup(login="dupont")
    await money.record_correction(setup.wallet_id, -4230, "Consommations", today())
    await make_staff("regisseur", setup.structure)
    await browser.submit(
        "/gestion/connexion", {"identifier": "regisseur", "password": STAFF_PASSWORD}
    )
    base = f"/gestion/s/{setup.structure.id}/regie/prelevement"
    assert (await browser.get(f"/gestion/s/{setup.structure.id}/regie")).status_code == 200
    bad = await browser.submit(
        f"{base}/parametres",
        {"nom": "Mairie", "ics": "FR73ZZZ123456", "iban": "FR7630006000011234567890189",
         "jour": "20", "delai": "14", "base": "debt", "actif": "1"},
        page=base,
    )  # fmt: skip
    assert bad.status_code == 400 and "clé de l'identifiant créancier" in text(bad)
    await _staff_settings(browser, base)
    paper = await browser.submit(
        f"{base}/mandats",
        {"famille": str(setup.family_id), "titulaire": "DUPONT Jean-Paul", "iban": FAMILY_IBAN,
         "bic": "", "signe_le": (today() - timedelta(days=10)).isoformat()},
        page=base,
    )  # fmt: skip
    assert paper.status_code == 303, text(paper)
    month = Month.of(today()).shift(1)
    preview = text(await browser.get(f"{base}?mois={month.key}"))
    assert "DUPONT Jean-Paul" in preview and "42,30" in preview

    prepared = await browser.submit(f"{base}/lancer", {"mois": month.key}, page=base)
    assert prepared.status_code == 303
    run_url = prepared.headers["location"]
    again = await browser.submit(f"{base}/lancer", {"mois": month.key}, page=base)
    assert again.headers["location"] == run_url
    assert await OutboxEmail.count().where(OutboxEmail.dedupe_key.like("sepa-notice:%")) == 1
    run = text(await browser.get(run_url))
    assert "42,30" in run and "FRST" in run and "Prévu" in run
    xml = await browser.get(f"{run_url}/pain008.xml")
    assert xml.status_code == 200 and xml.headers["content-type"].startswith("application/xml")
    xmlschema.XMLSchema(SCHEMA).validate(xml.content.decode())
    assert '<InstdAmt Ccy="EUR">42.30</InstdAmt>' in xml.text
    early = await browser.submit(f"{run_url}/comptabiliser", {}, page=run_url)
    assert early.status_code == 303
    assert "à partir du" in text(await browser.get(run_url))
    other = await money_setup(login="ailleurs")
    hidden = run_url.replace(f"/s/{setup.structure.id}/", f"/s/{other.structure.id}/")
    assert (await browser.get(hidden)).status_code == 404
