"""Compression, long-lived versioned static files and conditional GETs (ETag, 304)."""

from __future__ import annotations

import re

import brotli
import pytest

from tests.conftest import Database
from tests.factories import PASSWORD, make_family
from tests.web.conftest import Browser

# Headers, not storage: one engine is enough.
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


async def test_pages_and_static_files_are_compressed(db: Database, browser: Browser) -> None:
    page = await browser.get("/connexion", headers={"accept-encoding": "br"})
    assert page.headers["content-encoding"] == "br"
    assert page.headers["cache-control"] == "no-store"  # a form with a per-render token
    assert "Accept-Encoding" in page.headers["vary"]
    assert "Connexion" in page.text  # httpx decoded the brotli body
    async with browser.stream("GET", "/static/app.css", headers={"accept-encoding": "br"}) as css:
        raw = b"".join([chunk async for chunk in css.aiter_raw()])
    assert css.headers["content-encoding"] == "br"
    assert len(raw) < 20_000 and "Portail Famille" in brotli.decompress(raw).decode()
    gzip_page = await browser.get("/connexion", headers={"accept-encoding": "gzip"})
    assert gzip_page.headers["content-encoding"] == "gzip"
    plain = await browser.get("/connexion", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    # Images are already compressed: sent as they are.
    icon = await browser.get("/static/icons/icon-192.png", headers={"accept-encoding": "br"})
    assert "content-encoding" not in icon.headers


async def test_versioned_static_files_are_immutable(db: Database, browser: Browser) -> None:
    page = await browser.get("/connexion")
    urls = _asset_urls(page.text)
    versioned = [u for u in urls if "?v=" in u or re.search(r"-\d+\.\d+\.\d+", u)]
    assert {"app.css", "app.js", "boot.js"} <= {u.split("/")[-1].split("?")[0] for u in versioned}
    assert any("htmx-" in u for u in versioned)
    for url in versioned:
        response = await browser.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable", url
    unversioned = await browser.get("/static/icons/icon-192.png")
    assert "immutable" not in unversioned.headers["cache-control"]


async def test_conditional_requests_answer_304(db: Database, browser: Browser) -> None:
    urls = (
        "/static/icons/icon-192.png",
        "/static/app.css",
        "/accessibilite",
        "/mentions",
        "/sw.js",
    )
    for url in urls:
        first = await browser.get(url, headers={"accept-encoding": "br"})
        etag = first.headers["etag"]
        again = await browser.get(url, headers={"accept-encoding": "br", "if-none-match": etag})
        assert again.status_code == 304, url
        assert again.content == b"" and again.headers["etag"] == etag
        assert "content-security-policy" in again.headers  # still every security header
        other = await browser.get(url, headers={"if-none-match": '"autre-version"'})
        assert other.status_code == 200 and other.content, url


async def test_personal_pages_are_never_stored(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")
    await browser.login("dupont", PASSWORD)
    home = await browser.get("/")
    assert home.status_code == 200
    assert home.headers["cache-control"] == "no-store"
    assert "etag" not in home.headers
    # A guessed tag changes nothing: the page is rendered again.
    again = await browser.get("/", headers={"if-none-match": "*"})
    assert again.status_code == 200 and "Accueil" in again.text
