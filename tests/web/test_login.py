from __future__ import annotations

from portal.tables import Account
from tests.conftest import Database
from tests.factories import PASSWORD, make_family
from tests.web.conftest import Browser, LiveServer


async def test_login_then_home_shows_name_and_news(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")
    response = await browser.login("dupont", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    home = await browser.get("/")
    assert home.status_code == 200
    assert "DUPONT Jean-Paul" in home.text
    assert "Déconnexion" in home.text


async def test_anonymous_is_sent_to_login_with_return_path(db: Database, browser: Browser) -> None:
    response = await browser.get("/profil")
    assert response.status_code == 303
    assert response.headers["location"] == "/connexion?suite=/profil"


async def test_wrong_password_is_refused_in_french(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")
    response = await browser.login("dupont", "pas-le-bon")
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in response.text
    unknown = await browser.login("personne", "pas-le-bon")
    assert unknown.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in unknown.text


async def test_session_id_changes_at_login(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")
    await browser.get("/connexion")
    browser.cookies.set("portal_session", "f" * 64, domain="127.0.0.1")
    await browser.login("dupont", PASSWORD)
    new_id = browser.cookies.get("portal_session")
    assert new_id and new_id != "f" * 64


async def test_failures_no_longer_lock_the_account(
    db: Database, browser: Browser, live: LiveServer
) -> None:
    # Issue 11: the hard 15-minute lock let anyone lock a family out; failures now delay
    # only the (login, address) pair (tests/web/test_login_throttle.py).
    setup = await make_family(login="dupont")
    for _ in range(10):
        await browser.login("dupont", "mauvais")
    row = await Account.objects().get(Account.id == setup.account.id)
    assert row is not None and row.locked_until is None
    delayed = await browser.login("dupont", PASSWORD)
    assert delayed.status_code == 429
    assert "réessayez dans" in delayed.text
    assert "verrouillé" not in delayed.text


async def test_logout_destroys_the_session(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")
    await browser.login("dupont", PASSWORD)
    old_cookie = browser.cookies.get("portal_session")
    response = await browser.submit("/deconnexion", {}, page="/")
    assert response.status_code == 303
    # Replaying the old cookie must not reopen the session.
    browser.cookies.clear()
    browser.cookies.set("portal_session", old_cookie or "", domain="127.0.0.1")
    again = await browser.get("/")
    assert again.status_code == 303


async def test_post_without_csrf_token_is_refused(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")
    await browser.get("/connexion")
    response = await browser.post("/connexion", data={"identifier": "dupont", "password": PASSWORD})
    assert response.status_code == 403
    assert "formulaire a expiré" in response.text
