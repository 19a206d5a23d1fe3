from __future__ import annotations

import asyncio
import re

from portal import clock
from portal.domain.accounts.passwords import verify_password
from portal.tables import Account, PasswordResetToken
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


async def test_reset_mails_to_one_account_are_spaced(
    db: Database, browser: Browser, smtp_server: SmtpSink
) -> None:
    """Whoever knows a parent's login and address cannot fill their mailbox: one e-mail
    every five minutes at most, five a day; the page answers the same every time."""
    await make_family(login="dupont", emails="jp@example.fr")
    form = {"identifier": "dupont", "email": "jp@example.fr"}

    async def delivered(count: int) -> None:
        # Each mail is delivered before the clock moves on (a shifted clock would make the
        # relay think a send in flight had died); other mails (a night's report) are ignored.
        for _ in range(100):
            if len([m for m in smtp_server.messages if "/reinitialiser/" in mail_text(m)]) >= count:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)
        assert len([m for m in smtp_server.messages if "/reinitialiser/" in mail_text(m)]) == count

    for _ in range(4):
        answer = await browser.submit("/mot-de-passe-oublie", form)
        assert answer.status_code == 200 and "Si l'identifiant" in answer.text
    await delivered(1)
    assert await PasswordResetToken.count() == 1
    for sent in (2, 3, 4, 5, 5, 5):
        clock.shift(5 * 60 + 1)
        await browser.submit("/mot-de-passe-oublie", form)
        await delivered(sent)
    assert await PasswordResetToken.count() == 5
    # A day later the parent can ask again; the tokens expired long ago are gone with it.
    clock.shift(25 * 3600)
    await browser.submit("/mot-de-passe-oublie", form)
    await delivered(6)
    assert await PasswordResetToken.count() == 1


def test_reset_spacing_rule() -> None:
    from datetime import UTC, datetime, timedelta

    from portal.domain.accounts.rules import RESET_PER_DAY, may_send_reset

    now = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
    assert may_send_reset([], now)
    assert not may_send_reset([now - timedelta(minutes=4)], now)
    assert may_send_reset([now - timedelta(minutes=5)], now)
    day = [now - timedelta(hours=h + 1) for h in range(RESET_PER_DAY)]
    assert not may_send_reset(day, now)


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
