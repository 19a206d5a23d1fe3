"""Parent "Mon dossier" through real HTTP: edits, pending health changes, real multipart
uploads (content checked, not the name), documents served only to their family."""

from __future__ import annotations

import re

import httpx

from portal.tables import ChildFile, FamilyContact, FamilyDocument, PendingChange
from tests.factories import PASSWORD, add_file_rules, make_family
from tests.web.conftest import Browser, LiveServer, text

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200


def plain(response: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(response)))


async def upload(
    browser: Browser, type_value: str, name: str, content: bytes, mime: str = "application/pdf"
) -> httpx.Response:
    await browser.get("/dossier")
    assert browser.last_csrf
    return await browser.post(
        "/dossier/documents",
        data={"_csrf_token": browser.last_csrf, "type": type_value},
        files={"fichier": (name, content, mime)},
    )


async def test_the_file_page_lists_what_is_missing_and_edits_apply(
    live: LiveServer, browser: Browser
) -> None:
    setup = await make_family(login="dupont")
    await add_file_rules(setup.structure)
    await browser.login("dupont", PASSWORD)
    page = plain(await browser.get("/dossier"))
    assert "Dossier incomplet" in page
    assert "Famille : l'adresse de la famille" in page
    assert "Attestation CAF/quotient familial : à fournir" in page
    assert "Assurance extrascolaire (Paolo) : à fournir" in page
    assert "PAI (Paolo) : à fournir" not in page  # only asked for a child with a PAI

    bad = await browser.submit(
        "/dossier/famille", {"adresse": "1 rue Haute", "code_postal": "33", "tel_portable": "x"},
        page="/dossier",
    )  # fmt: skip
    assert bad.status_code == 400
    assert "Code postal : 5 chiffres." in plain(bad)
    assert "Téléphone portable : numéro de téléphone invalide" in plain(bad)
    assert await FamilyContact.count() == 0

    ok = await browser.submit(
        "/dossier/famille",
        {"adresse": "1 rue Haute", "code_postal": "33850", "ville": "Léognan",
         "tel_portable": "06 12 34 56 78"},
        page="/dossier",
    )  # fmt: skip
    assert ok.status_code == 303
    page = plain(await browser.get("/dossier"))
    assert "l'adresse de la famille" not in page
    assert "Les coordonnées de la famille ont été enregistrées." in page


async def test_health_changes_wait_for_validation(live: LiveServer, browser: Browser) -> None:
    setup = await make_family(login="dupont")
    await browser.login("dupont", PASSWORD)
    paolo = setup.people[0]
    response = await browser.submit(
        f"/dossier/enfants/{paolo.id}",
        {"ecole": "École Jules Ferry", "classe": "CE1", "droit_image": "oui",
         "allergies": "Arachide", "regime": "sans_porc", "pai": "oui", "fin_pai": "2027-07-05",
         "autorise_nom": "Mamie Dupont", "autorise_tel": "05 56 00 00 00",
         "autorise_lien": "grand-parent"},
    )  # fmt: skip
    assert response.status_code == 303, plain(response)
    child = await ChildFile.objects().get(ChildFile.person == paolo.id)
    assert child is not None
    assert child.school == "École Jules Ferry" and child.image_rights is True  # at once
    assert child.allergies == "" and child.pai is False  # waits for staff
    change = await PendingChange.objects().get(PendingChange.person == paolo.id)
    assert change is not None and change.status == "pending"
    page = plain(await browser.get("/dossier"))
    assert "Modification en attente de validation" in page
    assert "Allergies : non renseigné → Arachide" in page
    assert "Régime alimentaire : Aucun régime particulier → Sans porc" in page

    invalid = await browser.submit(
        f"/dossier/enfants/{paolo.id}",
        {"regime": "carnivore", "pai": "oui", "fin_pai": "32/13/2027"},
    )
    assert invalid.status_code == 400
    assert "Régime alimentaire : choisissez dans la liste." in plain(invalid)
    assert "Fin du PAI : date invalide" in plain(invalid)


async def test_uploads_are_checked_by_content_and_size(live: LiveServer, browser: Browser) -> None:
    setup = await make_family(login="dupont")
    ids = await add_file_rules(setup.structure)
    await browser.login("dupont", PASSWORD)

    fake = await upload(browser, str(ids["caf"]), "attestation.pdf", ELF)
    assert fake.status_code == 400
    assert "ni un PDF, ni une image JPEG ou PNG" in plain(fake)

    big = await upload(browser, str(ids["caf"]), "gros.pdf", PDF + b"0" * (5 * 1024 * 1024))
    assert big.status_code == 400
    assert "Le fichier dépasse 5 Mo" in plain(big)

    huge = await upload(browser, str(ids["caf"]), "enorme.pdf", PDF + b"0" * (11 * 1024 * 1024))
    assert huge.status_code == 413
    assert "trop volumineux" in plain(huge)

    no_child = await upload(browser, str(ids["assurance"]), "assurance.pdf", PDF)
    assert no_child.status_code == 400
    assert "choisissez l'enfant concerné" in plain(no_child)
    assert await FamilyDocument.count() == 0

    ok = await upload(browser, str(ids["caf"]), "../../etc/attestation caf.PDF", PDF)
    assert ok.status_code == 303, plain(ok)
    photo = await upload(
        browser, f"{ids['assurance']}:{setup.people[0].id}", "photo.jpg", PNG, "image/jpeg"
    )
    assert photo.status_code == 303
    docs = await FamilyDocument.objects().order_by(FamilyDocument.id)
    assert [d.filename for d in docs] == ["attestation caf.pdf", "photo.png"]
    assert [d.content_type for d in docs] == ["application/pdf", "image/png"]
    stored = live.settings.documents_dir
    assert stored.is_dir() and "static" not in str(stored)

    page = plain(await browser.get("/dossier"))
    assert "Attestation CAF/quotient familial En cours de vérification" in page
    served = await browser.get(f"/dossier/documents/{docs[0].id}")
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"

    # The same file again for the same slot: said, nothing stored twice.
    again = await upload(browser, str(ids["caf"]), "encore.pdf", PDF)
    assert again.status_code == 400
    assert "Ce fichier a déjà été envoyé pour « Attestation CAF/quotient familial »" in plain(again)
    assert await FamilyDocument.count() == 2


async def test_another_familys_document_is_a_404(live: LiveServer, browser: Browser) -> None:
    mine = await make_family(login="dupont")
    ids = await add_file_rules(mine.structure)
    other = await make_family(login="martin", structure=mine.structure, name="MARTIN Luc")
    async with Browser(base_url=live.url, follow_redirects=False) as theirs:
        await theirs.login("martin", PASSWORD)
        assert (await upload(theirs, str(ids["caf"]), "a.pdf", PDF)).status_code == 303
    doc = await FamilyDocument.objects().first()
    assert doc is not None and doc.family == other.family.id
    await browser.login("dupont", PASSWORD)
    response = await browser.get(f"/dossier/documents/{doc.id}", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "n'appartient pas à votre famille" in plain(response)
    assert (await browser.get("/dossier/documents/999999")).status_code == 404
    child = await browser.get(f"/dossier/enfants/{other.people[0].id}")
    assert child.status_code == 404
    post = await browser.submit(
        f"/dossier/enfants/{other.people[0].id}", {"ecole": "X"}, page="/dossier"
    )
    assert post.status_code == 404
    assert await ChildFile.count() == 0


async def test_enrolment_requests_through_the_page(live: LiveServer, browser: Browser) -> None:
    from portal.tables import EnrolmentOffer, EnrolmentRequest
    from tests.factories import make_activity

    setup = await make_family(login="dupont")
    other = await make_family(login="martin", structure=setup.structure, name="MARTIN Luc")
    activity = await make_activity(setup.structure, "Ecole de danse")
    await EnrolmentOffer(activity=activity.id, is_open=True, period_label="Année 2027").save()
    await browser.login("dupont", PASSWORD)
    page = plain(await browser.get("/inscriptions"))
    assert "Ecole de danse · Année 2027" in page
    bad = await browser.submit("/inscriptions", {"enfant": "abc", "activite": str(activity.id)})
    assert bad.status_code == 400
    assert "Choisissez l'enfant et l'activité." in plain(bad)
    theirs = await browser.submit(
        "/inscriptions", {"enfant": str(other.people[0].id), "activite": str(activity.id)}
    )
    assert theirs.status_code == 404
    ok = await browser.submit(
        "/inscriptions", {"enfant": str(setup.people[0].id), "activite": str(activity.id)}
    )
    assert ok.status_code == 303
    assert "En attente de réponse" in plain(await browser.get("/inscriptions"))
    request = await EnrolmentRequest.objects().first()
    assert request is not None
    cancel = await browser.submit(f"/inscriptions/{request.id}/annuler", {}, page="/inscriptions")
    assert cancel.status_code == 303
    assert "Annulée" in plain(await browser.get("/inscriptions"))


async def test_export_my_data_is_a_zip_with_the_documents(
    live: LiveServer, browser: Browser
) -> None:
    import io
    import json
    import zipfile

    setup = await make_family(login="dupont")
    ids = await add_file_rules(setup.structure)
    await browser.login("dupont", PASSWORD)
    await browser.submit(f"/dossier/enfants/{setup.people[0].id}", {"ecole": "Jules Ferry"})
    assert (await upload(browser, str(ids["caf"]), "caf.pdf", PDF)).status_code == 303
    response = await browser.get("/dossier/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert {"dossier.json", "reservations.csv", "compte.csv"} <= set(names)
    [document] = [n for n in names if n.startswith("documents/")]
    assert archive.read(document) == PDF
    data = json.loads(archive.read("dossier.json"))
    assert data["famille"]["family_name"] == "DUPONT Jean-Paul"
    assert data["famille"]["children"][0]["school"] == "Jules Ferry"
    assert data["dossier_complet"] is False
