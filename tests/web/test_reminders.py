"""Reminders over HTTP: the parent's threshold in Profil; staff list the families in debt,
send a reminder e-mail once, print the letter, switch low-balance alerts on."""

from __future__ import annotations

from datetime import timedelta

from portal.domain.money import service as money
from portal.domain.reminders import service as reminders
from portal.tables import DebtReminder, OutboxEmail
from tests.conftest import Database
from tests.factories import PASSWORD, STAFF_PASSWORD, make_staff, money_setup, today
from tests.integration.papers.test_papers import pdf_text
from tests.web.conftest import Browser, text


async def test_parent_sets_the_low_balance_threshold(db: Database, browser: Browser) -> None:
    setup = await money_setup(login="martin")
    await browser.login("martin", PASSWORD)
    page = await browser.get("/profil")
    assert "Alerte de solde bas" in text(page) and 'value="0,00"' in page.text
    bad = await browser.submit("/profil/alerte-solde", {"seuil": "-5"}, page="/profil")
    assert bad.status_code == 400 and "ne peut pas être négatif" in text(bad)
    too_big = await browser.submit("/profil/alerte-solde", {"seuil": "5000"}, page="/profil")
    assert too_big.status_code == 400 and "entre 0 et 1 000" in text(too_big)
    ok = await browser.submit("/profil/alerte-solde", {"seuil": "20,50"}, page="/profil")
    assert ok.status_code == 303
    assert (await reminders.alert_setting(setup.family_id)).threshold_cents == 2050
    assert 'value="20,50"' in (await browser.get("/profil")).text


async def test_staff_send_and_print_reminders(db: Database, browser: Browser) -> None:
    setup = await money_setup(login="martin", emails="sophie.martin@example.fr")
    await money.record_correction(
        setup.wallet_id, -8240, "Consommations", today() - timedelta(days=30)
    )
    await make_staff("regisseur", setup.structure)
    await browser.submit(
        "/gestion/connexion", {"identifier": "regisseur", "password": STAFF_PASSWORD}
    )
    base = f"/gestion/s/{setup.structure.id}/regie/relances"
    page = await browser.get(base)
    assert page.status_code == 200
    body = text(page)
    assert "DUPONT Jean-Paul" in body and "82,40" in body and "Envoyer la 1re relance" in body
    key = page.text.split('name="cle" value="')[1].split('"')[0]
    data = {"famille": str(setup.family_id), "niveau": "1", "cle": key}
    assert (await browser.submit(f"{base}/envoyer", data, page=base)).status_code == 303
    assert (await browser.submit(f"{base}/envoyer", data, page=base)).status_code == 303
    assert await OutboxEmail.count().where(OutboxEmail.dedupe_key.like("debt-reminder:%")) == 1
    page = text(await browser.get(base))
    assert "1re relance (e-mail)" in page and "Envoyer la 2e relance" in page
    letter = await browser.submit(
        f"{base}/lettre", {"famille": str(setup.family_id), "niveau": "2"}, page=base
    )
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    content = pdf_text(letter.content)
    assert "Deuxième relance" in content and "82,40" in content and "DUPONT Jean-Paul" in content
    assert await DebtReminder.count() == 2
    other = await money_setup(login="ailleurs")
    forged = await browser.submit(
        f"{base}/lettre", {"famille": str(other.family_id), "niveau": "1"}, page=base
    )
    assert forged.status_code == 404

    bad = await browser.submit(
        f"{base}/modeles/1", {"objet": "Relance", "texte": "Bonjour {nom}"}, page=base
    )
    assert bad.status_code == 400 and "n'est pas un champ connu" in text(bad)
    saved = await browser.submit(f"{base}/parametres", {"alertes": "1", "jours": "10"}, page=base)
    assert saved.status_code == 303
    settings = await reminders.reminder_settings(int(setup.structure.id))
    assert settings.low_balance_alerts and settings.debt_days == 10
    checked = await browser.submit(f"{base}/soldes-bas", {}, page=base)
    assert checked.status_code == 303
    assert "1 alerte(s) envoyée(s)" in text(await browser.get(base))
