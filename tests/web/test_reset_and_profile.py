from __future__ import annotations

import re

from portal import clock
from portal.domain.accounts.passwords import verify_password
from portal.tables import Account
from tests.conftest import Database, SmtpSink, mail_text
from tests.factories import PASSWORD, make_family
from tests.web.conftest import Browser, text

NEW_PASSWORD = "Encore-Un-Secret-42"


async def test_reset_link_arrives_by_smtp_and_works_once(
    db: Database, browser: Browser, smtp_server: SmtpSink
) -> None:
    setup = await make_family(login="dupont", emails="jp@example.fr;autre@example.fr")
    page = await browser.submit(
        "/mot-de-passe-oublie", {"identifier": "dupont", "email": "JP@example.fr"}
    )
    assert page.status_code == 200
    assert "Si l'identifiant et l'adresse e-mail correspondent" in page.text
    [message] = await smtp_server.wait_for(1)
    assert message["To"] == "JP@example.fr"
    link = re.search(r"http://testserver.local(/reinitialiser/\S+)", mail_text(message))
    assert link
    path = link.group(1)

    form = await browser.get(path)
    assert form.status_code == 200
    done = await browser.submit(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert done.headers["location"] == "/connexion?etat=mot-de-passe-change"
    account = await Account.objects().get(Account.id == setup.account.id)
    assert account is not None and verify_password(account.password_hash, NEW_PASSWORD)

    again = await browser.get(path)
    assert again.status_code == 410
    assert (await browser.login("dupont", NEW_PASSWORD)).status_code == 303


async def test_reset_answers_the_same_when_nothing_matches(
    db: Database, browser: Browser, smtp_server: SmtpSink
) -> None:
    await make_family(login="dupont", emails="jp@example.fr")
    known = await browser.submit(
        "/mot-de-passe-oublie", {"identifier": "dupont", "email": "jp@example.fr"}
    )
    wrong_mail = await browser.submit(
        "/mot-de-passe-oublie", {"identifier": "dupont", "email": "x@example.fr"}
    )
    unknown = await browser.submit(
        "/mot-de-passe-oublie", {"identifier": "inconnu", "email": "jp@example.fr"}
    )

    def body(text: str) -> str:
        # Tokens differ on every rendering (a fresh nonce each time).
        return re.sub(r'value="[^"]+"|"x-csrftoken": "[0-9a-f]+"', "", text)

    assert known.status_code == wrong_mail.status_code == unknown.status_code == 200
    assert body(known.text) == body(wrong_mail.text) == body(unknown.text)
    await smtp_server.wait_for(1)
    assert len(smtp_server.messages) == 1


async def test_reset_link_expires_after_30_minutes(
    db: Database, browser: Browser, smtp_server: SmtpSink
) -> None:
    await make_family(login="dupont", emails="jp@example.fr")
    await browser.submit("/mot-de-passe-oublie", {"identifier": "dupont", "email": "jp@example.fr"})
    [message] = await smtp_server.wait_for(1)
    link = re.search(r"http://testserver.local(/reinitialiser/\S+)", mail_text(message))
    assert link
    clock.shift(31 * 60)
    assert (await browser.get(link.group(1))).status_code == 410


async def test_profile_changes_password_and_emails_at_once(db: Database, browser: Browser) -> None:
    setup = await make_family(login="dupont")
    await browser.login("dupont", PASSWORD)
    wrong = await browser.submit(
        "/profil/mot-de-passe",
        {"current_password": "faux", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        page="/profil",
    )
    assert wrong.status_code == 400
    assert "mot de passe actuel est incorrect" in wrong.text
    ok = await browser.submit(
        "/profil/mot-de-passe",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        page="/profil",
    )
    assert ok.headers["location"] == "/profil"
    assert "Votre mot de passe a été changé." in (await browser.get("/profil")).text

    bad = await browser.submit(
        "/profil/courriels", {"emails": "a@example.fr; pas-une-adresse"}, page="/profil"
    )
    assert bad.status_code == 400
    assert "« pas-une-adresse » n'est pas une adresse e-mail valide." in text(bad)
    good = await browser.submit(
        "/profil/courriels", {"emails": "premier@example.fr ; second@example.org"}, page="/profil"
    )
    assert good.status_code == 303
    account = await Account.objects().get(Account.id == setup.account.id)
    assert account is not None and account.emails == "premier@example.fr;second@example.org"
