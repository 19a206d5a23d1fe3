"""Histories, "Paiement et solde" and the card payment through the sandbox, over HTTP."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from portal.domain.money import service as money
from portal.pages import payments as payment_pages
from portal.tables import LedgerEntry, OnlinePayment, Person
from tests.conftest import Database, SmtpSink, mail_text
from tests.factories import PASSWORD, MoneySetup, add_tariff, money_setup, today
from tests.web.conftest import Browser, text

NBSP = "\u00a0"
HREF = re.compile(r'href="([^"]+)"')


async def _martin(**kwargs: object) -> MoneySetup:
    """A family 82,40 € in debt, beyond a 50,00 € threshold on its wallet."""
    setup = await money_setup(
        login="martin",
        wallet_threshold=5000,
        emails="sophie.martin@example.fr;autre@example.fr",
        **kwargs,  # type: ignore[arg-type]
    )
    await money.record_correction(setup.wallet_id, -8240, "Consommations", today())
    return setup


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _hidden(page: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
        if m.group(1) != "_csrf_token"
    }


async def _pay(browser: Browser, setup: MoneySetup, amount: str = "82,40") -> tuple[int, str]:
    """Submit the pay form; returns the payment id and the sandbox page path."""
    response = await browser.submit(
        "/paiement",
        {f"montant-{setup.wallet_id}": amount, "email": "sophie.martin@example.fr"},
    )
    assert response.status_code == 200, text(response)
    assert "Vous allez être redirigé" in text(response)
    link = re.search(r'href="([^"]+)" id="vers-paiement"', response.text)
    assert link
    sandbox = _path(link.group(1).replace("&amp;", "&"))
    assert response.headers["refresh"].startswith("0; url=http://127.0.0.1:")
    payment_id = int(re.search(r"/paiement/retour/(\d+)", response.text).group(1))  # type: ignore[union-attr]
    return payment_id, sandbox


async def _sandbox(browser: Browser, sandbox: str, issue: str, notification: str) -> str:
    page = await browser.get(sandbox)
    assert page.status_code == 200 and "Plateforme de paiement de démonstration" in text(page)
    fields = {k: v.replace("&amp;", "&") for k, v in _hidden(page.text).items()}
    answer = await browser.submit(
        _path(sandbox).split("?")[0],
        {**fields, "issue": issue, "notification": notification},
        page=sandbox,
    )
    assert answer.status_code == 303
    return _path(answer.headers["location"])


async def test_full_sandbox_payment_of_a_family_in_debt(
    db: Database, browser: Browser, smtp_server: SmtpSink
) -> None:
    setup = await _martin()
    await browser.login("martin", PASSWORD)

    form = await browser.get("/paiement")
    page = text(form)
    assert "Vos réservations sont bloquées" in page
    assert f"débiteur de 82,40{NBSP}€" in page and f"au moins <strong>32,40{NBSP}€</strong>" in page
    assert "Montant dû" in page
    assert f'name="montant-{setup.wallet_id}"' in form.text and 'value="82,40"' in form.text
    assert 'value="sophie.martin@example.fr"' in form.text  # the first profile address

    payment_id, sandbox = await _pay(browser, setup)
    back = await _sandbox(browser, sandbox, "paid", "immediate")
    assert back == f"/paiement/retour/{payment_id}"

    [credit] = await LedgerEntry.select().where(
        (LedgerEntry.family == setup.family_id) & (LedgerEntry.kind == "credit")
    )
    assert credit["amount_cents"] == 8240 and credit["online_payment"] == payment_id
    result = text(await browser.get(back))
    assert "Votre paiement est accepté" in result and "hx-trigger" not in result
    assert credit["piece_number"] in result

    [ticket] = await smtp_server.wait_for(1)
    assert ticket["To"] == "sophie.martin@example.fr"
    assert f"82,40{NBSP}€" in mail_text(ticket)

    history = text(await browser.get("/historiques"))
    assert credit["piece_number"] in history and "Paiement en ligne" in history
    assert ">Carte bancaire, en ligne<" in history and "DUPONT Jean-Paul" in history
    after = text(await browser.get("/paiement"))
    assert "Vos réservations sont bloquées" not in after and "Votre crédit" in after


async def test_late_twice_and_never_notifications(
    db: Database, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(payment_pages, "SANDBOX_LATE_SECONDS", 0.5)
    setup = await _martin()
    await browser.login("martin", PASSWORD)

    payment_id, sandbox = await _pay(browser, setup, "10")
    back = await _sandbox(browser, sandbox, "paid", "late")
    waiting = await browser.get(back)
    assert "Paiement en attente de confirmation" in text(waiting)
    assert 'hx-trigger="every 2s"' in waiting.text
    assert f'href="/paiement/retour/{payment_id}">Rafraîchir' in waiting.text
    fragment = None
    for _ in range(40):
        await asyncio.sleep(0.1)
        fragment = await browser.get(
            f"/paiement/retour/{payment_id}/etat", headers={"hx-request": "true"}
        )
        if "Votre paiement est accepté" in text(fragment):
            break
    assert fragment is not None and "Votre paiement est accepté" in text(fragment)
    assert "hx-trigger" not in fragment.text and "<html" not in fragment.text  # polling stops

    twice_id, sandbox = await _pay(browser, setup, "5,50")
    await _sandbox(browser, sandbox, "paid", "twice")
    never_id, sandbox = await _pay(browser, setup, "7")
    await _sandbox(browser, sandbox, "paid", "never")
    credits = await LedgerEntry.select(LedgerEntry.amount_cents, LedgerEntry.online_payment).where(
        LedgerEntry.kind == "credit"
    )
    assert sorted((c["online_payment"], c["amount_cents"]) for c in credits) == [
        (payment_id, 1000),
        (twice_id, 550),
    ]
    assert "Paiement en attente de confirmation" in text(
        await browser.get(f"/paiement/retour/{never_id}")
    )


async def test_refused_and_abandoned_payments(db: Database, browser: Browser) -> None:
    setup = await _martin()
    await browser.login("martin", PASSWORD)
    for issue, message in (("refused", "refusé par la plateforme"), ("abandoned", "abandonné")):
        _, sandbox = await _pay(browser, setup)
        back = await _sandbox(browser, sandbox, issue, "immediate")
        assert message in text(await browser.get(back))
    assert await LedgerEntry.count().where(LedgerEntry.kind == "credit") == 0


async def test_return_page_is_the_familys_own_and_ignores_its_parameters(
    db: Database, browser: Browser
) -> None:
    setup = await _martin()
    other = await money_setup(login="voisin")
    await browser.login("martin", PASSWORD)
    payment_id, _ = await _pay(browser, setup)
    tampered = await browser.get(
        f"/paiement/retour/{payment_id}?resultrans=P&status=paid&result=P&montant=8240&ok=1"
    )
    assert "Paiement en attente de confirmation" in text(tampered)
    row = (
        await OnlinePayment.select(OnlinePayment.status)
        .where(OnlinePayment.id == payment_id)
        .first()
    )
    assert row is not None and row["status"] == "created"
    assert await LedgerEntry.count().where(LedgerEntry.kind == "credit") == 0

    # Another family's payment, and ids that do not exist, are all 404.
    await browser.aclose()
    async with Browser(base_url=str(browser.base_url), follow_redirects=False) as neighbour:
        await neighbour.login("voisin", PASSWORD)
        assert (await neighbour.get(f"/paiement/retour/{payment_id}")).status_code == 404
        assert (await neighbour.get(f"/paiement/retour/{payment_id}/etat")).status_code == 404
        assert (await neighbour.get("/paiement/retour/99999999999999")).status_code == 404
        assert other.family_id != setup.family_id


INVALID_PAYMENTS = [
    ("abc", "a@example.fr", "n'est pas un montant valide"),
    ("-5", "a@example.fr", "ne peut pas être négatif"),
    ("12,345", "a@example.fr", "n'est pas un montant valide"),
    ("0", "a@example.fr", "Indiquez le montant de votre règlement"),
    ("0,50", "a@example.fr", "compris entre 1,00"),
    ("100000,01", "a@example.fr", "compris entre 1,00"),
    ("10", "", "L'adresse e-mail est obligatoire"),
    ("10", "pas-une-adresse", "n'est pas une adresse e-mail valide"),
]


async def test_pay_form_validation(db: Database, browser: Browser) -> None:
    setup = await _martin()
    await browser.login("martin", PASSWORD)
    for amount, email, message in INVALID_PAYMENTS:
        response = await browser.submit(
            "/paiement", {f"montant-{setup.wallet_id}": amount, "email": email, "montant-999": "1"}
        )
        assert response.status_code == 400, amount
        assert message in text(response), amount
        assert f'value="{amount}"' in response.text  # what was typed is kept
    assert await OnlinePayment.count() == 0


async def test_pay_form_prefill_estimate_and_total_fragment(db: Database, browser: Browser) -> None:
    setup = await money_setup(login="famille", emails="jp@example.fr")
    await add_tariff(setup.activity, "A", 422, today() - timedelta(days=60))
    await money.record_correction(setup.wallet_id, 500, "Chèque", today())
    await setup.reserve(today() + timedelta(days=1))
    await setup.reserve(today() + timedelta(days=2), "waitlisted")
    await browser.login("famille", PASSWORD)
    amount_field = re.compile(rf'name="montant-{setup.wallet_id}"[^>]*value="([^"]*)"')
    page = await browser.get("/paiement")
    content = text(page)
    assert "Votre crédit</dt>" in content and f"5,00{NBSP}€" in content
    assert f"8,44{NBSP}€" in content  # both reservations counted by default
    assert amount_field.findall(page.text) == ["3,44"]  # settles the estimated balance
    assert f"-3,44{NBSP}€" in content  # "Solde estimé"
    assert 'value="jp@example.fr"' in page.text
    confirmed_only = await browser.get("/paiement?calcul=1&confirmees=1")
    assert f"4,22{NBSP}€" in text(confirmed_only) and f"8,44{NBSP}€" not in text(confirmed_only)
    assert amount_field.findall(confirmed_only.text) == ["0,00"]  # in credit: nothing to pay
    none = text(await browser.get("/paiement?calcul=1"))
    assert f"4,22{NBSP}€" not in none
    far = text(await browser.get(f"/paiement?jusqu_au={today().isoformat()}"))
    assert f"4,22{NBSP}€" not in far
    assert (await browser.get("/paiement?jusqu_au=31/12/2026")).status_code == 400

    total = await browser.get(
        f"/paiement/total?montant-{setup.wallet_id}=12,50", headers={"hx-request": "true"}
    )
    assert total.status_code == 200 and f"12,50{NBSP}€" in text(total)
    assert 'id="pay-total"' in total.text
    bad = await browser.get(f"/paiement/total?montant-{setup.wallet_id}=x")
    assert "Montant invalide" in text(bad)


async def test_histories_months_filters_and_csv(db: Database, browser: Browser) -> None:
    setup = await money_setup(login="dupont")
    now = today()
    this_month = now.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    await add_tariff(setup.activity, "A", 422, last_month - timedelta(days=400))
    amalia = int(setup.family.people[1].id)
    await setup.reserve(last_month + timedelta(days=1))
    await setup.reserve(last_month + timedelta(days=1), person_id=amalia)
    await setup.reserve(last_month + timedelta(days=2), person_id=amalia, quantity=2)
    await money.post_consumptions(int(setup.structure.id), until=last_month + timedelta(days=27))
    await money.record_correction(setup.wallet_id, 2000, "Chèque", last_month + timedelta(days=4))
    await LedgerEntry.update(
        {
            LedgerEntry.payment_mode: "CHEQUE",
            LedgerEntry.piece_number: "0001234",
            LedgerEntry.payer_name: "DUPONT Jean-Paul",
            LedgerEntry.bank_name: "Crédit Agricole",
        }
    ).where(LedgerEntry.amount_cents == 2000)
    stranger = await money_setup(login="voisin")
    await add_tariff(stranger.activity, "A", 999, last_month - timedelta(days=400))
    await stranger.reserve(last_month + timedelta(days=1))
    await money.post_consumptions(int(stranger.structure.id), until=last_month + timedelta(days=27))

    await browser.login("dupont", PASSWORD)
    # Without a month, the page opens on the latest month that has lines (issue 12).
    latest = text(await browser.get("/historiques"))
    assert latest.count("Restauration Scolaire</td>") == 3 and f"16,88{NBSP}€" in latest
    current = await browser.get(f"/historiques?mois={this_month:%Y-%m}")
    assert current.status_code == 200
    assert "Aucune consommation débitée" in text(current)
    previous = [h for h in HREF.findall(current.text) if f"mois={last_month:%Y-%m}" in h]
    assert previous, "flèche vers le mois précédent"
    page = await browser.get(previous[0].replace("&amp;", "&"))
    content = text(page)
    assert content.count("Restauration Scolaire</td>") == 3
    assert f"16,88{NBSP}€" in content  # 4 x 4,22
    assert "0001234" in content and "Crédit Agricole" in content and f"20,00{NBSP}€" in content
    assert f"9,99{NBSP}€" not in content
    assert any(f"mois={this_month:%Y-%m}" in h for h in HREF.findall(page.text))

    filtered = text(await browser.get(f"/historiques?mois={last_month:%Y-%m}&prenom={amalia}"))
    assert filtered.count("Restauration Scolaire</td>") == 2 and f"12,66{NBSP}€" in filtered
    one_day = (last_month + timedelta(days=2)).isoformat()
    by_day = text(await browser.get(f"/historiques?jour={one_day}"))
    assert by_day.count("Restauration Scolaire</td>") == 1 and f"8,44{NBSP}€" in by_day

    export = await browser.get(f"/historiques/export.csv?mois={last_month:%Y-%m}")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Date", "Nom", "Prénom", "Activité", "Prix (€)", "Qté", "Total (€)"]
    assert len(rows) == 5 and rows[-1][-1] == "16,88"
    assert ["4,22", "2", "8,44"] in [r[4:] for r in rows]
    payments = await browser.get(
        f"/historiques/export.csv?mois={last_month:%Y-%m}&tableau=reglements"
    )
    assert "0001234;DUPONT Jean-Paul;Crédit Agricole;20,00" in payments.content.decode("utf-8-sig")

    for bad in (
        "/historiques?mois=2026-13",
        "/historiques?prenom=abc",
        "/historiques?jour=hier",
        "/historiques/export.csv?tableau=x",
    ):
        response = await browser.get(bad)
        assert response.status_code == 400, bad
        assert (
            "incorrect" in text(response)
            or "valide" in text(response)
            or "inconnu" in text(response)
        )


async def test_histories_csv_never_hands_a_formula_to_the_spreadsheet(
    db: Database, browser: Browser
) -> None:
    setup = await money_setup(login="dupont")
    day = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    await add_tariff(setup.activity, "A", 422, day - timedelta(days=400))
    paolo = setup.family.people[0]
    await Person.update({Person.last_name: "=1+2", Person.first_name: "@SUM(A1)"}).where(
        Person.id == paolo.id
    )
    await setup.reserve(day)
    await money.post_consumptions(int(setup.structure.id), until=day + timedelta(days=27))
    await money.record_correction(setup.wallet_id, 2000, "Chèque", day + timedelta(days=2))
    await LedgerEntry.update(
        {
            LedgerEntry.payment_mode: "CHEQUE",
            LedgerEntry.payer_name: "=1+2",
            LedgerEntry.piece_number: "-2+3",
        }
    ).where(LedgerEntry.amount_cents == 2000)

    await browser.login("dupont", PASSWORD)
    export = await browser.get(f"/historiques/export.csv?mois={day:%Y-%m}")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    [line] = [r for r in rows if r[3] == "Restauration Scolaire"]
    assert line[1:3] == ["'=1+2", "'@SUM(A1)"]
    assert line[4:] == ["4,22", "1", "4,22"]  # amounts stay numbers
    payments = await browser.get(f"/historiques/export.csv?mois={day:%Y-%m}&tableau=reglements")
    rows = list(csv.reader(io.StringIO(payments.content.decode("utf-8-sig")), delimiter=";"))
    [line] = [r for r in rows if r[0] != "Date Règl" and r[0] != "TOTAL"]
    assert line[2:4] == ["'-2+3", "'=1+2"] and line[-1] == "20,00"


async def test_notification_endpoint_needs_no_csrf_and_rejects_forgeries(
    db: Database, browser: Browser
) -> None:
    setup = await _martin()
    await browser.login("martin", PASSWORD)
    payment_id, _ = await _pay(browser, setup)
    async with Browser(base_url=str(browser.base_url)) as bank:
        forged = await bank.post(
            f"/paiement/notification/{payment_id}",
            data={"ref": "x", "result": "P", "amount": "8240", "sig": "0"},
        )
        assert forged.status_code == 400  # not 403: CSRF does not apply, the signature does
        unknown = await bank.post("/paiement/notification/424242", data={"ref": "x"})
        assert unknown.status_code == 404
    assert await LedgerEntry.count().where(LedgerEntry.kind == "credit") == 0


async def test_non_ascii_signatures_are_refused_not_a_500(db: Database, browser: Browser) -> None:
    setup = await _martin()
    await browser.login("martin", PASSWORD)
    payment_id, sandbox = await _pay(browser, setup)
    async with Browser(base_url=str(browser.base_url)) as bank:
        for sig in ("é", "é" * 64, "\u2603" * 32):
            forged = await bank.post(
                f"/paiement/notification/{payment_id}",
                data={"ref": "x", "result": "P", "amount": "8240", "sig": sig},
            )
            assert forged.status_code == 400, sig
            amount = await bank.post(
                f"/paiement/notification/{payment_id}",
                data={"ref": "x", "result": "P", "amount": "²", "sig": sig},
            )
            assert amount.status_code == 400, sig
    # The sandbox page with its signature replaced by non-ASCII text: a French 404.
    tampered = re.sub(r"sig=[0-9a-f]+", "sig=%C3%A9%C3%A9", sandbox)
    page = await browser.get(tampered, headers={"accept": "text/html"})
    assert page.status_code == 404 and "inconnue ou a été modifiée" in text(page)
    assert (await browser.get(sandbox)).status_code == 200  # the genuine one still opens
    assert await LedgerEntry.count().where(LedgerEntry.kind == "credit") == 0


async def test_pages_need_a_login(db: Database, browser: Browser) -> None:
    for url in ("/historiques", "/paiement", "/paiement/retour/1"):
        response = await browser.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith("/connexion")


async def test_redirect_to_another_origin_gets_its_own_form_action(
    db: Database, browser: Browser
) -> None:
    # The sandbox "platform" on another origin (localhost vs 127.0.0.1), like a bank.
    port = urlsplit(str(browser.base_url)).port
    platform = f"http://localhost:{port}"
    setup = await _martin(options={"platform_url": platform})
    await browser.login("martin", PASSWORD)
    response = await browser.submit(
        "/paiement", {f"montant-{setup.wallet_id}": "20", "email": "s@example.fr"}
    )
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert f"form-action 'self' {platform};" in csp and "script-src 'self';" in csp
    assert response.headers["refresh"].startswith(f"0; url={platform}/paiement/bac-a-sable/")
    # Every other page keeps the strict policy.
    assert (
        "form-action 'self';" in (await browser.get("/paiement")).headers["content-security-policy"]
    )


async def test_histories_and_tracking_as_xlsx(db: Database, browser: Browser) -> None:
    from decimal import Decimal

    from openpyxl import load_workbook

    setup = await money_setup(login="dupont")
    day = (today().replace(day=1) - timedelta(days=1)).replace(day=1)
    await add_tariff(setup.activity, "A", 422, day - timedelta(days=400))
    await setup.reserve(day, quantity=2)
    await money.post_consumptions(int(setup.structure.id), until=day + timedelta(days=27))
    await browser.login("dupont", PASSWORD)

    page = await browser.get(f"/historiques?mois={day:%Y-%m}")
    assert f"/historiques/export.xlsx?mois={day:%Y-%m}" in page.text
    export = await browser.get(f"/historiques/export.xlsx?mois={day:%Y-%m}")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"consommations-{day:%Y-%m}.xlsx" in export.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None and sheet.freeze_panes == "A2"
    header, line, total = (list(r) for r in sheet.iter_rows(values_only=True))
    assert header[0] == "Date" and line[0].date() == day  # a real date
    assert line[3] == "Restauration Scolaire" and line[5] == 2
    assert Decimal(str(line[6])) == Decimal("8.44") and Decimal(str(total[6])) == Decimal("8.44")
    payments = await browser.get(f"/historiques/export.xlsx?mois={day:%Y-%m}&tableau=reglements")
    assert payments.status_code == 200
    assert (await browser.get("/historiques/export.xlsx?tableau=x")).status_code == 400

    tracking = await browser.get(f"/suivi?du={day.isoformat()}")
    assert f"/suivi/export.xlsx?du={day.isoformat()}" in tracking.text
    for fmt in ("csv", "xlsx"):
        response = await browser.get(f"/suivi/export.{fmt}?du={day.isoformat()}")
        assert response.status_code == 200, fmt
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Date", "Activité", "Personne")
    assert rows[1][0].date() == day and rows[1][1] == "Restauration Scolaire"
    assert Decimal(str(rows[1][5])) == Decimal("8.44")
    assert str(rows[-2][0]).startswith("Total acceptées (1)")
