"""The installable app over HTTP: the service worker's route, the offline page, the manifest
and its icons, and what logout tells the browser to forget."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from portal.app import MANIFEST, STATIC_DIR
from portal.pages import pwa
from tests.conftest import Database
from tests.factories import PASSWORD, make_family
from tests.web.conftest import Browser

# Nothing here depends on the database engine.
sqlite_only = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def _worker_config(body: str) -> dict[str, object]:
    match = re.search(r"var CONFIG = (\{.*?\});", body)
    assert match, body[:400]
    return dict(json.loads(match.group(1)))


@sqlite_only
async def test_service_worker_is_served_from_the_root(db: Database, browser: Browser) -> None:
    response = await browser.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    config = _worker_config(response.text)
    assert config["offline"] == "/hors-ligne"
    assert re.fullmatch(r"[0-9a-f]{16}", str(config["version"]))
    assert "/*CONFIG*/" not in response.text

    # The files kept are the very URLs the pages ask for, and they all exist.
    login = (await browser.get("/connexion")).text
    precache = list(config["precache"])  # type: ignore[call-overload]
    for url in precache:
        if url.startswith("/static/app."):
            assert url in login, url
        assert (await browser.get(url)).status_code == 200, url
    assert "/hors-ligne" in precache and "/manifest.webmanifest" in precache


def test_version_follows_the_static_files(tmp_path: Path) -> None:
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.css").write_text("body { color: black; }")
    first = pwa.static_version(static)
    assert pwa.static_version(static) == first
    (static / "app.css").write_text("body { color: navy; }")
    second = pwa.static_version(static)
    assert second != first
    (static / "icons").mkdir()
    (static / "icons" / "new.png").write_bytes(b"\x89PNG")
    assert pwa.static_version(static) not in (first, second)
    assert pwa.static_version(static, salt="other") != pwa.static_version(static)


def test_render_worker_replaces_only_the_config() -> None:
    source = 'var CONFIG = /*CONFIG*/ {"version": "dev"} /*END CONFIG*/;\nvar KEEP = 1;'
    rendered = pwa.render_worker({"version": "abc", "precache": ["/hors-ligne"]}, source)
    assert (
        rendered == 'var CONFIG = {"version": "abc", "precache": ["/hors-ligne"]};\nvar KEEP = 1;'
    )
    # The file in static/ carries the markers the route relies on.
    assert pwa.CONFIG_RE.search(pwa.SW_SOURCE.read_text(encoding="utf-8"))


@sqlite_only
async def test_offline_page_is_public_and_impersonal(db: Database, browser: Browser) -> None:
    anonymous = await browser.get("/hors-ligne")
    assert anonymous.status_code == 200
    assert "Vous êtes hors ligne" in anonymous.text

    await make_family(login="dupont", name="DUPONT Jean-Paul")
    await browser.login("dupont", PASSWORD)
    changed = await browser.submit("/profil/courriels", {"emails": "a@example.fr"}, page="/profil")
    assert changed.status_code == 303
    # The worker fetches this page while someone is logged in: it must show nothing of them,
    # carry no CSRF token, and leave their one-shot messages for the next real page.
    offline = await browser.get("/hors-ligne")
    assert offline.status_code == 200
    for personal in ("DUPONT", "Déconnexion", "x-csrftoken", "_csrf_token", "Vos adresses e-mail"):
        assert personal not in offline.text, personal
    assert offline.headers["cache-control"] == "no-cache"
    assert "Vos adresses e-mail ont été enregistrées." in (await browser.get("/profil")).text


@sqlite_only
async def test_logout_clears_site_data(db: Database, browser: Browser) -> None:
    await make_family(login="dupont")
    await browser.login("dupont", PASSWORD)
    response = await browser.submit("/deconnexion", {}, page="/")
    assert response.status_code == 303
    assert response.headers["clear-site-data"] == '"cache", "storage"'


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@sqlite_only
async def test_manifest_icons_and_head(db: Database, browser: Browser) -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert manifest["name"] == "Portail Famille" and 0 < len(manifest["short_name"]) <= 12
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["lang"] == "fr"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    purposes: dict[str, set[str]] = {}
    for icon in manifest["icons"]:
        if icon["type"] != "image/png":
            continue
        path = STATIC_DIR / icon["src"].removeprefix("/static/")
        width, height = _png_size(path)
        assert icon["sizes"] == f"{width}x{height}", icon
        purposes.setdefault(icon["sizes"], set()).add(icon["purpose"])
    assert "any" in purposes["192x192"] and "any" in purposes["512x512"]
    assert "maskable" in purposes["512x512"]
    for shortcut in manifest.get("shortcuts", []):
        assert shortcut["url"].startswith("/")

    served = await browser.get("/manifest.webmanifest")
    assert served.headers["content-type"].startswith("application/manifest+json")
    page = (await browser.get("/connexion")).text
    assert '<html lang="fr">' in page
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png">' in page
    assert _png_size(STATIC_DIR / "icons" / "apple-touch-icon.png") == (180, 180)
    assert '<meta name="theme-color" content="#1e3a8a">' in page
    assert manifest["theme_color"] == "#1e3a8a"
    assert 'name="apple-mobile-web-app-title"' in page
