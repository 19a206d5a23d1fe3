"""CSRF bound to the session, security headers on every response, HEAD like GET."""

from __future__ import annotations

import re

import httpx

from portal.web.security import STATIC_HEADERS
from tests.conftest import Database
from tests.factories import PASSWORD, make_family
from tests.web.conftest import Browser, LiveServer, text

HEADER_TOKEN = re.compile(r'"x-csrftoken": "([0-9a-f]+)"')


def _header_token(response: httpx.Response) -> str:
    match = HEADER_TOKEN.search(response.text)
    assert match, "jeton htmx absent de la page"
    return match.group(1)


def _assert_security_headers(response: httpx.Response) -> None:
    for name, value in STATIC_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    assert response.headers["cache-control"] == "no-store" or response.request.url.path.startswith(
        "/static/"
    )


async def test_a_token_from_another_browser_is_refused(
    db: Database, browser: Browser, live: LiveServer
) -> None:
    dupont = await make_family(login="dupont")
    await make_family(login="martin", structure=dupont.structure, name="MARTIN Sophie")
    async with Browser(base_url=live.url, follow_redirects=False, timeout=30) as other:
        assert (await browser.login("dupont", PASSWORD)).status_code == 303
        assert (await other.login("martin", PASSWORD)).status_code == 303
        mine = _header_token(await browser.get("/"))
        theirs = _header_token(await other.get("/"))
        stolen_cookie = other.cookies.get("portal_csrf")
        assert stolen_cookie and mine != theirs

        # Their token as the htmx header, then as the form field: refused.
        refused = await browser.post("/deconnexion", headers={"x-csrftoken": theirs})
        assert refused.status_code == 403
        assert "formulaire a expiré" in text(refused)
        refused = await browser.post("/deconnexion", data={"_csrf_token": theirs})
        assert refused.status_code == 403

        # Even with their CSRF cookie planted in this browser (double submit would pass).
        browser.cookies.set("portal_csrf", stolen_cookie, domain="127.0.0.1")
        refused = await browser.post("/deconnexion", headers={"x-csrftoken": theirs})
        assert refused.status_code == 403
        assert (await browser.get("/")).status_code == 200  # still logged in

        # This browser's own token, sent by htmx as a header, works.
        mine = _header_token(await browser.get("/"))
        out = await browser.post("/deconnexion", headers={"x-csrftoken": mine})
        assert out.status_code == 303

        # The other browser's token still works for the other browser only.
        assert (await other.post("/deconnexion", data={"_csrf_token": theirs})).status_code == 303


async def test_tokens_die_with_the_session(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")
    await browser.get("/connexion")
    anonymous = browser.last_csrf
    assert anonymous
    await browser.login("dupont", PASSWORD)
    # The login page's token belonged to the anonymous visitor, not to the new session.
    stale = await browser.post("/structure", data={"_csrf_token": anonymous, "family_id": "1"})
    assert stale.status_code == 403
    logged = _header_token(await browser.get("/"))
    assert (await browser.post("/deconnexion", headers={"x-csrftoken": logged})).status_code == 303
    # After logout the token of the closed session is refused, even for a new login.
    again = await browser.post(
        "/connexion",
        data={"identifier": "dupont", "password": PASSWORD, "_csrf_token": logged},
    )
    assert again.status_code == 403
    # Malformed tokens are refused the same way, never a 500.
    for bad in ("", "x" * 96, "0" * 95, "é" * 96, "0" * 10_000):
        response = await browser.post("/connexion", data={"_csrf_token": bad})
        assert response.status_code == 403, bad
    response = await browser.post("/connexion", headers={"x-csrftoken": b"\xe9" * 96})
    assert response.status_code == 403


async def test_router_errors_are_french_pages_with_the_headers(
    db: Database, browser: Browser
) -> None:
    # The router's own 404 and 405 (no route reached), for a browser and for curl (*/*).
    for accept in ("text/html,application/xhtml+xml", "*/*", None):
        headers = {"accept": accept} if accept else {}
        missing = await browser.get("/nexistepas", headers=headers)
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
        assert "Page introuvable" in text(missing) and '<html lang="fr"' in missing.text
        _assert_security_headers(missing)
    wrong_method = await browser.request("PUT", "/connexion")
    assert wrong_method.status_code == 405
    assert "Action non permise" in text(wrong_method)
    _assert_security_headers(wrong_method)
    # Clients that ask for JSON get JSON, with the headers too.
    api = await browser.get("/nexistepas", headers={"accept": "application/json"})
    assert api.status_code == 404 and api.json()["status_code"] == 404
    _assert_security_headers(api)
    # Error pages of the application (a CSRF refusal, a 400) carry them as well.
    refused = await browser.post("/connexion", data={"identifier": "x"})
    assert refused.status_code == 403
    _assert_security_headers(refused)
    static_missing = await browser.get("/static/nexistepas.css")
    assert static_missing.status_code == 404
    assert static_missing.headers["x-content-type-options"] == "nosniff"


async def test_head_answers_like_get_without_a_body(db: Database, browser: Browser) -> None:
    for path in ("/connexion", "/healthz", "/sw.js", "/manifest.webmanifest", "/static/app.css"):
        get = await browser.get(path)
        head = await browser.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path
        if path != "/connexion":  # a page may differ by a few bytes from one rendering to the next
            assert head.headers.get("content-length") == get.headers.get("content-length"), path
        assert head.headers["x-content-type-options"] == "nosniff"
    # A private page answers HEAD as GET does: to the login page.
    private = await browser.head("/")
    assert private.status_code == 303 and private.content == b""
    missing = await browser.head("/nexistepas")
    assert missing.status_code == 404 and missing.content == b""
    _assert_security_headers(missing)
    # HEAD is safe: it needs no CSRF token, and it writes nothing a GET would not.
    await make_family(login="dupont")
    await browser.login("dupont", PASSWORD)
    assert (await browser.head("/")).status_code == 200
