"""The papers over HTTP: a parent downloads statements, receipts and certificates from
Historiques (only the family's own), staff set the letterhead and download every tax
certificate in one ZIP."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta

from portal.domain.money.manual import ManualPayment, record_manual_payment
from portal.domain.money.rules import Month
from portal.tables import LedgerEntry
from tests.conftest import Database
from tests.factories import PASSWORD, STAFF_PASSWORD, make_staff, money_setup, today
from tests.integration.papers.test_papers import euros, pdf_text
from tests.web.conftest import Browser, text

SVG_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<rect width="10" height="10"/></svg>'
)


async def test_parent_downloads_statement_receipt_and_certificates(
    db: Database, browser: Browser
) -> None:
    setup = await money_setup(login="dupont")
    other = await money_setup(login="voisin")
    month = Month.of(today()).shift(-1)
    paid = month.first_day + timedelta(days=4)
    entry_id = await record_manual_payment(
        ManualPayment(setup.wallet_id, "CHEQUE", 4500, paid, "DUPONT Jean-Paul", "0001234"), "k1"
    )
    other_entry = await record_manual_payment(
        ManualPayment(other.wallet_id, "CHEQUE", 700, paid, "VOISIN"), "k2"
    )
    await browser.login("dupont", PASSWORD)

    page = await browser.get(f"/historiques?mois={month.key}")
    assert page.status_code == 200
    body = text(page)
    assert "Documents" in body
    assert f'href="/historiques/releve/{setup.wallet_id}/{month.key}"' in page.text
    assert f'href="/historiques/recu/{entry_id}"' in page.text
    assert f'href="/historiques/attestation-fiscale/{today().year - 1}"' in page.text

    statement = await browser.get(f"/historiques/releve/{setup.wallet_id}/{month.key}")
    assert statement.status_code == 200
    assert statement.headers["content-type"] == "application/pdf"
    assert f"releve-{month.key}-" in statement.headers["content-disposition"]
    content = pdf_text(statement.content)
    assert f"Relevé de compte · {month.label}" in content and euros(4500) in content

    receipt = await browser.get(f"/historiques/recu/{entry_id}")
    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/pdf"
    assert "0001234" in pdf_text(receipt.content)

    tax = await browser.get(f"/historiques/attestation-fiscale/{today().year - 1}")
    assert tax.status_code == 200 and "Attestation fiscale" in pdf_text(tax.content)
    presence = await browser.get(
        f"/historiques/attestation-presence?enfant={setup.person_id}"
        f"&du={month.first_day.isoformat()}&au={month.last_day.isoformat()}"
    )
    assert presence.status_code == 200 and "Attestation de présence" in pdf_text(presence.content)

    # Another family's papers, whatever id is typed, are a 404; bad input a French 400.
    for url in (
        f"/historiques/releve/{other.wallet_id}/{month.key}",
        f"/historiques/recu/{other_entry}",
        f"/historiques/recu/{2**40}",
        f"/historiques/attestation-presence?enfant={other.person_id}&du={month.first_day}&au={month.last_day}",
    ):
        response = await browser.get(url)
        assert response.status_code == 404, url
        assert "%PDF" not in response.text
    for url, message in (
        (f"/historiques/releve/{setup.wallet_id}/2026-13", "n'est pas un mois valide"),
        (f"/historiques/releve/{setup.wallet_id}/{Month.of(today()).shift(2).key}", "mois à venir"),
        (f"/historiques/attestation-fiscale/{today().year}", "n'est pas disponible"),
        (f"/historiques/attestation-presence?enfant={setup.person_id}&du=x&au=y", "date valide"),
        (
            f"/historiques/attestation-presence?enfant={setup.person_id}"
            f"&du={month.last_day}&au={month.first_day}",
            "précède",
        ),
    ):
        response = await browser.get(url)
        assert response.status_code == 400, url
        assert message in text(response), url


async def test_staff_letterhead_categories_and_all_tax_certificates(
    db: Database, browser: Browser
) -> None:
    setup = await money_setup(login="dupont")
    year = today().year - 1
    await LedgerEntry(
        wallet=setup.wallet_id, family=setup.family_id, kind="debit", amount_cents=-1234,
        entry_date=date(year, 6, 3), label="ALSH", person=setup.person_id,
        activity=setup.activity.id, quantity=1,
    ).save()  # fmt: skip
    await make_staff("regisseur", setup.structure)
    await browser.submit(
        "/gestion/connexion", {"identifier": "regisseur", "password": STAFF_PASSWORD}
    )
    base = f"/gestion/s/{setup.structure.id}/regie"
    page = await browser.get(base)
    assert page.status_code == 200 and "Attestations fiscales" in text(page)
    assert "Repas (exclus de l'attestation)" in text(page)  # "Restauration Scolaire" by default

    # The letterhead, with a logo (multipart form).
    response = await browser.post(
        f"{base}/en-tete",
        data={"adresse": "1 place de la Mairie\n33850 Léognan", "signataire": "Le maire",
              "_csrf_token": browser.last_csrf or ""},
        files={"logo": ("logo.svg", SVG_LOGO, "image/svg+xml")},
    )  # fmt: skip
    assert response.status_code == 303, text(response)
    refused = await browser.post(
        f"{base}/en-tete",
        data={"adresse": "", "signataire": "", "_csrf_token": browser.last_csrf or ""},
        files={"logo": ("logo.svg", b"not an image", "image/svg+xml")},
    )
    assert refused.status_code == 400 and "n'est pas une image" in text(refused)
    page = await browser.get(base)
    assert "data:image/svg+xml;base64," in page.text

    # The canteen counted as garde for the test: the ZIP holds this family's certificate.
    response = await browser.submit(
        f"{base}/categories", {f"categorie-{setup.activity.id}": "garde"}, page=base
    )
    assert response.status_code == 303
    archive = await browser.get(f"{base}/attestations-fiscales?annee={year}")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        [name] = z.namelist()
        assert name.startswith(f"attestation-fiscale-{year}-{setup.family_id}-")
        content = pdf_text(z.read(name))
    assert euros(1234) in content and "33850 Léognan" in content and "Le maire" in content
    bad = await browser.submit(
        f"{base}/categories", {f"categorie-{setup.activity.id}": "x"}, page=base
    )
    assert bad.status_code == 400 and "Catégorie inconnue" in text(bad)
    assert re.search(r"Régie", text(page))
