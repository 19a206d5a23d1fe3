from __future__ import annotations

from portal.tables import AccountFamily, Family
from tests.conftest import Database
from tests.factories import PASSWORD, make_family, make_structure
from tests.web.conftest import Browser


async def test_switcher_changes_structure_and_refuses_foreign_family(
    db: Database, browser: Browser
) -> None:
    setup = await make_family(login="dupont")
    music = await make_structure("Ecole de musique", "musique")
    music_family = Family(structure=music.id, name="DUPONT Jean-Paul")
    await music_family.save()
    await AccountFamily(account=setup.account.id, family=music_family.id).save()
    stranger = await make_family(login="autre", structure=music, name="MARTIN Sophie")

    await browser.login("dupont", PASSWORD)
    home = await browser.get("/")
    assert "Structure consultée" in home.text
    assert "Ecole de musique" in home.text and "Mairie de Testville" in home.text

    switched = await browser.submit(
        "/structure", {"family_id": str(music_family.id)}, page="/profil"
    )
    assert switched.headers["location"] == "/profil"
    page = await browser.get("/")
    assert "auprès de Ecole de musique" in page.text

    foreign = await browser.submit("/structure", {"family_id": str(stranger.family.id)}, page="/")
    assert foreign.status_code == 404
    assert "auprès de Ecole de musique" in (await browser.get("/")).text


async def test_security_headers_on_pages(db: Database, browser: Browser) -> None:
    response = await browser.get("/connexion")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    cookie = response.headers.get("set-cookie", "")
    assert "portal_csrf" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_hsts_behind_https_proxy(db: Database, browser: Browser) -> None:
    response = await browser.get("/connexion", headers={"x-forwarded-proto": "https"})
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_healthz_reports_the_database_engine(db: Database, browser: Browser) -> None:
    response = await browser.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == {"engine": db.kind, "status": "ok"}


async def test_manifest_and_unknown_pages(db: Database, browser: Browser) -> None:
    manifest = await browser.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["lang"] == "fr"
    missing = await browser.get("/nulle-part", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert "Page introuvable" in missing.text
