from __future__ import annotations

from portal.tables import Account, RulesAcknowledgement
from tests.conftest import Database
from tests.factories import PASSWORD, add_rules_document, make_family
from tests.web.conftest import Browser

NEW_PASSWORD = "Un-Nouveau-Mot2passe"


async def test_first_login_walks_password_terms_and_rules(db: Database, browser: Browser) -> None:
    setup = await make_family(login="durand", onboarded=False, children=("Hugo",))
    await add_rules_document(setup.structure)
    response = await browser.login("durand", PASSWORD)
    assert response.status_code == 303
    # Every page sends an account that has not finished the first login back to its step.
    home = await browser.get("/")
    assert home.headers["location"] == "/premiere-connexion/mot-de-passe"

    weak = await browser.submit(
        "/premiere-connexion/mot-de-passe", {"password": "court", "password_confirm": "court"}
    )
    assert weak.status_code == 400
    assert "il en faut au moins 12" in weak.text

    common = await browser.submit(
        "/premiere-connexion/mot-de-passe",
        {"password": "password1234567", "password_confirm": "password1234567"},
    )
    assert common.status_code == 400
    assert "plus courants" in common.text

    ok = await browser.submit(
        "/premiere-connexion/mot-de-passe",
        {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert ok.headers["location"] == "/premiere-connexion/conditions"
    assert (await browser.get("/")).headers["location"] == "/premiere-connexion/conditions"

    missing = await browser.submit("/premiere-connexion/conditions", {"accept_rgpd": "on"})
    assert missing.status_code == 400
    assert "conditions d'utilisation" in missing.text
    accepted = await browser.submit(
        "/premiere-connexion/conditions", {"accept_rgpd": "on", "accept_cgu": "on"}
    )
    assert accepted.headers["location"] == "/premiere-connexion/reglement"

    account = await Account.objects().get(Account.id == setup.account.id)
    assert account is not None
    assert account.must_change_password is False
    assert account.rgpd_accepted_at is not None and account.cgu_version

    rules_page = await browser.get("/premiere-connexion/reglement")
    assert "Hugo DUPONT" in rules_page.text
    unsigned = await browser.submit(
        "/premiere-connexion/reglement",
        {
            "person_id": str(setup.people[0].id),
            "document_id": "0",
            "signer_name": "Claire",
            "place": "Ici",
        },
    )
    assert unsigned.status_code == 400
    document_id = rules_page.text.split('name="document_id" value="')[1].split('"')[0]
    signed = await browser.submit(
        "/premiere-connexion/reglement",
        {
            "person_id": str(setup.people[0].id),
            "document_id": document_id,
            "signer_name": "Claire DURAND",
            "place": "CarteVille",
            "acknowledged": "on",
        },
    )
    assert signed.headers["location"] == "/"
    ack = await RulesAcknowledgement.objects().first()
    assert ack is not None and ack.signer_name == "Claire DURAND" and ack.place == "CarteVille"
    assert (await browser.get("/")).status_code == 200


async def test_cannot_sign_for_another_familys_child(db: Database, browser: Browser) -> None:
    mine = await make_family(login="moi", children=("Hugo",))
    other = await make_family(
        login="autre", structure=mine.structure, children=("Zoé",), name="MARTIN Sophie"
    )
    document = await add_rules_document(mine.structure)
    await browser.login("moi", PASSWORD)
    response = await browser.submit(
        "/premiere-connexion/reglement",
        {
            "person_id": str(other.people[0].id),
            "document_id": str(document.id),
            "signer_name": "Intrus",
            "place": "Ailleurs",
            "acknowledged": "on",
        },
        page="/",
    )
    assert response.status_code == 400
    assert await RulesAcknowledgement.count() == 0
