"""The régie chooses, over HTTP, to e-mail the monthly statements on the 1st; another
structure's id in the URL is a 404."""

from __future__ import annotations

from portal.domain.statements import service as statements
from tests.conftest import Database
from tests.factories import STAFF_PASSWORD, make_staff, money_setup
from tests.web.conftest import Browser, text


async def test_staff_turn_the_statement_mailing_on_and_off(db: Database, browser: Browser) -> None:
    setup = await money_setup()
    sid = int(setup.structure.id)
    other = await money_setup(login="ailleurs")
    await make_staff("regisseur", setup.structure)
    await browser.submit(
        "/gestion/connexion", {"identifier": "regisseur", "password": STAFF_PASSWORD}
    )
    base = f"/gestion/s/{sid}/regie"
    page = await browser.get(base)
    assert "Relevés de compte par e-mail" in text(page)
    assert 'name="envoyer" type="checkbox" value="1" >' in page.text  # off by default
    on = await browser.submit(f"{base}/releves-par-email", {"envoyer": "1"}, page=base)
    assert on.status_code == 303
    assert (await statements.mail_setting(sid)).enabled
    page = await browser.get(base)
    assert "seront envoyés par e-mail le 1er de chaque mois" in text(page)
    assert 'name="envoyer" type="checkbox" value="1" checked>' in page.text
    off = await browser.submit(f"{base}/releves-par-email", {}, page=base)
    assert off.status_code == 303
    assert not (await statements.mail_setting(sid)).enabled
    forged = await browser.submit(
        f"/gestion/s/{other.structure.id}/regie/releves-par-email", {"envoyer": "1"}, page=base
    )
    assert forged.status_code == 404
    assert not (await statements.mail_setting(int(other.structure.id))).enabled
