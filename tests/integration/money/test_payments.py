"""Online payments through the service: sandbox, TIPI (real eopayment code), PayFiP against a
local stand-in of its SOAP service; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from portal import clock
from portal.domain.money import service as money
from portal.domain.outbox.service import relay_due
from portal.domain.payments import service as payments
from portal.domain.payments.backends import SandboxBackend
from portal.settings import Settings
from portal.tables import LedgerEntry, OnlinePayment, OutboxEmail
from tests.conftest import Database, SmtpSink, mail_text
from tests.conftest import make_settings as make_settings
from tests.factories import MoneySetup, money_setup

URLS = payments.PaymentUrls("http://portail.test", "http://portail.test")


@pytest.fixture
def settings(db: Database, tmp_path: Path, smtp_server: SmtpSink) -> Settings:
    return make_settings(
        tmp_path, db.url, PORTAL_SMTP_HOST=smtp_server.host, PORTAL_SMTP_PORT=smtp_server.port
    )


async def _start(
    setup: MoneySetup, settings: Settings, cents: int = 8240
) -> payments.StartedPayment:
    return await payments.start_payment(
        family_id=setup.family_id,
        account_id=int(setup.family.account.id),
        amounts={setup.wallet_id: cents},
        email="sophie.martin@example.fr",
        urls=URLS,
        settings=settings,
    )


def _sandbox_notification(
    settings: Settings, started: payments.StartedPayment, outcome: str
) -> str:
    sandbox = SandboxBackend(settings.secret_key, "http://portail.test")
    params = {k: v[0] for k, v in parse_qs(urlsplit(started.redirection.url).query).items()}
    order = sandbox.order(params)
    assert order is not None
    return urlencode(sandbox.notification(order, outcome))


async def _credits(family_id: int) -> list[dict[str, Any]]:
    return await LedgerEntry.select().where(
        (LedgerEntry.family == family_id) & (LedgerEntry.kind == "credit")
    )


async def _status(payment_id: int) -> str:
    row = (
        await OnlinePayment.select(OnlinePayment.status)
        .where(OnlinePayment.id == payment_id)
        .first()
    )
    assert row is not None
    return str(row["status"])


async def test_fifty_identical_notifications_credit_once(
    db: Database, settings: Settings, smtp_server: SmtpSink
) -> None:
    setup = await money_setup(login="martin")
    await money.record_correction(
        setup.wallet_id, -8240, "Consommations", clock.local_today("Europe/Paris")
    )
    started = await _start(setup, settings)
    assert started.redirection.url.startswith("http://portail.test/paiement/bac-a-sable/")
    body = _sandbox_notification(settings, started, "paid")

    results = await asyncio.gather(
        *[
            payments.handle_notification(
                started.payment_id, body, settings=settings, site_url="http://portail.test"
            )
            for _ in range(50)
        ]
    )
    assert sum(r.changed for r in results) == 1
    assert {r.status for r in results} == {"paid"}
    [credit] = await _credits(setup.family_id)
    assert credit["amount_cents"] == 8240
    assert credit["payment_mode"] == "CB"
    assert credit["bank_name"] == "Paiement en ligne"
    assert credit["payer_name"] == "DUPONT Jean-Paul"
    assert credit["online_payment"] == started.payment_id
    assert credit["dedupe_key"] == f"online:{started.payment_id}:{setup.wallet_id}"
    assert credit["piece_number"].startswith("BAS")
    [wallet] = await money.wallet_balances(setup.family_id)
    assert wallet.balance_cents == 0
    assert await _status(started.payment_id) == "paid"
    # The ticket was queued with the credit; the relay (a worker in production) sends it.
    assert await OutboxEmail.count() == 1
    await relay_due(settings)
    await relay_due(settings)  # a second relay sends nothing more
    [ticket] = await smtp_server.wait_for(1)
    assert ticket["To"] == "sophie.martin@example.fr"
    assert "82,40" in mail_text(ticket) and credit["piece_number"] in mail_text(ticket)
    # Both relays have returned and the row is sent once: nothing is left to send later.
    assert [(r.status, r.attempts) for r in await OutboxEmail.objects()] == [("sent", 1)]
    assert len(smtp_server.messages) == 1

    # A late duplicate, much later, changes nothing either.
    again = await payments.handle_notification(
        started.payment_id, body, settings=settings, site_url="http://portail.test"
    )
    assert not again.changed and len(await _credits(setup.family_id)) == 1


@pytest.mark.parametrize(
    ("outcome", "status"), [("refused", "refused"), ("abandoned", "abandoned")]
)
async def test_refused_and_abandoned_credit_nothing(
    db: Database, settings: Settings, outcome: str, status: str
) -> None:
    setup = await money_setup()
    started = await _start(setup, settings)
    body = _sandbox_notification(settings, started, outcome)
    result = await payments.handle_notification(
        started.payment_id, body, settings=settings, site_url="http://portail.test"
    )
    assert result.status == status and result.changed
    assert await _credits(setup.family_id) == []
    assert await _status(started.payment_id) == status


async def test_forged_notifications_change_nothing(db: Database, settings: Settings) -> None:
    setup = await money_setup()
    started = await _start(setup, settings)
    body = parse_qs(_sandbox_notification(settings, started, "paid"))
    forged = [
        {**{k: v[0] for k, v in body.items()}, "amount": "999999"},  # signature no longer matches
        {**{k: v[0] for k, v in body.items()}, "sig": "0" * 64},
        {"ref": body["ref"][0], "result": "P", "amount": "8240"},  # unsigned
    ]
    for params in forged:
        with pytest.raises(payments.Rejected):
            await payments.handle_notification(
                started.payment_id, urlencode(params), settings=settings, site_url="http://x"
            )
    # A genuine notification of another payment, replayed on this one.
    other = await _start(setup, settings, 1000)
    with pytest.raises(payments.Rejected):
        await payments.handle_notification(
            started.payment_id,
            _sandbox_notification(settings, other, "paid"),
            settings=settings,
            site_url="http://x",
        )
    assert await _credits(setup.family_id) == []
    assert await _status(started.payment_id) == "created"


async def test_amounts_outside_the_limits_and_foreign_wallets_are_refused(
    db: Database, settings: Settings
) -> None:
    setup = await money_setup()
    for cents in (99, 10_000_001):
        with pytest.raises(payments.PaymentError, match="compris entre 1,00"):
            await _start(setup, settings, cents)
    other = await money_setup(login="voisin")
    with pytest.raises(payments.NotFound):
        await payments.start_payment(
            family_id=setup.family_id,
            account_id=int(setup.family.account.id),
            amounts={other.wallet_id: 1000},
            email="a@example.fr",
            urls=URLS,
            settings=settings,
        )
    with pytest.raises(payments.PaymentError, match="adresse"):
        await payments.start_payment(
            family_id=setup.family_id,
            account_id=int(setup.family.account.id),
            amounts={setup.wallet_id: 1000},
            email="pas-une-adresse",
            urls=URLS,
            settings=settings,
        )
    assert await OnlinePayment.count() == 0


async def test_sandbox_is_closed_on_an_https_site(db: Database, tmp_path: Path) -> None:
    production = make_settings(tmp_path, db.url, PORTAL_BASE_URL="https://portail.example.fr")
    setup = await money_setup()
    with pytest.raises(payments.PaymentError, match="pas encore ouvert"):
        await _start(setup, production)


# --- TIPI: eopayment's own code parses the callback ------------------------------------------


async def test_tipi_callback_is_parsed_by_eopayment(db: Database, settings: Settings) -> None:
    setup = await money_setup(backend="tipi", options={"numcli": "123456", "saisie": "T"})
    started = await _start(setup, settings, 11804)
    url = urlsplit(started.redirection.url)
    assert url.netloc == "www.payfip.gouv.fr"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["montant"] == "11804" and query["numcli"] == "123456"
    assert query["urlcl"] == f"http://portail.test/paiement/notification/{started.payment_id}"
    refdet = query["refdet"]

    def callback(**changes: str) -> str:
        fields = {
            "numcli": "123456",
            "exer": "2026",
            "refdet": refdet,
            "objet": "",
            "montant": "11804",
            "mel": "sophie.martin@example.fr",
            "saisie": "T",
            "resultrans": "P",
            "numauto": "595926",
            "dattrans": "12112026",
            "heurtrans": "1055",
        }
        fields.update(changes)
        return urlencode(fields)

    # A callback for another amount is not trusted.
    wrong = await payments.handle_notification(
        started.payment_id, callback(montant="100"), settings=settings, site_url="http://x"
    )
    assert wrong.status == "error" and await _credits(setup.family_id) == []

    started = await _start(setup, settings, 11804)
    refdet = parse_qs(urlsplit(started.redirection.url).query)["refdet"][0]
    with pytest.raises(payments.Rejected):
        await payments.handle_notification(
            started.payment_id, callback(refdet="AUTRE000000"), settings=settings, site_url="x"
        )
    result = await payments.handle_notification(
        started.payment_id, callback(), settings=settings, site_url="http://x"
    )
    assert result.status == "paid" and result.changed
    [credit] = await _credits(setup.family_id)
    assert credit["amount_cents"] == 11804 and credit["piece_number"] == "595926"

    refused = await _start(setup, settings, 500)
    refdet = parse_qs(urlsplit(refused.redirection.url).query)["refdet"][0]
    answer = await payments.handle_notification(
        refused.payment_id, callback(resultrans="R", montant="500"), settings=settings, site_url="x"
    )
    assert answer.status == "refused" and len(await _credits(setup.family_id)) == 1


def test_tipi_limit_is_what_eopayment_accepts() -> None:
    from portal.domain.payments.backends import EopaymentBackend

    tipi = EopaymentBackend("tipi", {"numcli": "123456"})
    assert tipi.limits.minimum_cents == 100 and tipi.limits.maximum_cents == 999_999


# --- PayFiP web-service against a local stand-in -------------------------------------------

SOAP = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>{}</S:Body></S:Envelope>'
)
NS = (
    "http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/"
    "contrat_paiement_securise/PaiementSecuriseService"
)


class PayFiPStandIn:
    """Answers creerPaiementSecurise and recupererDetailPaiementSecurise like PayFiP."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.result = "P"
        self.montant = ""
        self.refdet = ""
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                stand_in.requests.append(body)
                answer = stand_in.answer(body)
                payload = SOAP.format(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "text/xml; charset=utf-8")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tpa/services/securite"

    def answer(self, body: str) -> str:
        import re

        if "creerPaiementSecurise" in body:
            self.montant = re.search(r"<montant>(\d+)</montant>", body).group(1)  # type: ignore[union-attr]
            self.refdet = re.search(r"<refdet>(\w+)</refdet>", body).group(1)  # type: ignore[union-attr]
            return (
                f'<ns2:creerPaiementSecuriseResponse xmlns:ns2="{NS}">'
                "<return><idOp>cc0cb210-1cd4-11ea-8cca-0213ad91a103</idOp></return>"
                "</ns2:creerPaiementSecuriseResponse>"
            )
        from datetime import datetime
        from zoneinfo import ZoneInfo

        now = datetime.now(ZoneInfo("Europe/Paris"))  # PayFiP's own clock
        return (
            f'<ns2:recupererDetailPaiementSecuriseResponse xmlns:ns2="{NS}"><return>'
            f"<dattrans>{now:%d%m%Y}</dattrans><exer>2026</exer><heurtrans>{now:%H%M}</heurtrans>"
            "<idOp>cc0cb210-1cd4-11ea-8cca-0213ad91a103</idOp><mel>sophie.martin@example.fr</mel>"
            f"<montant>{self.montant}</montant><numauto>112233445566-tip</numauto>"
            f"<numcli>090909</numcli><objet>famille</objet><refdet>{self.refdet}</refdet>"
            f"<resultrans>{self.result}</resultrans><saisie>T</saisie>"
            "</return></ns2:recupererDetailPaiementSecuriseResponse>"
        )


@pytest.fixture
def payfip() -> Iterator[PayFiPStandIn]:
    stand_in = PayFiPStandIn()
    thread = threading.Thread(
        target=stand_in.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield stand_in
    finally:
        stand_in.server.shutdown()
        stand_in.server.server_close()


async def test_payfip_web_service_flow(
    db: Database, settings: Settings, payfip: PayFiPStandIn
) -> None:
    options = {"numcli": "090909", "saisie": "T", "service_url": payfip.url}
    setup = await money_setup(backend="payfip_ws", options=options)
    started = await _start(setup, settings, 11804)
    assert started.redirection.url == (
        "https://www.payfip.gouv.fr/tpa/paiementws.web?idop=cc0cb210-1cd4-11ea-8cca-0213ad91a103"
    )
    assert payfip.montant == "11804"
    assert "<urlnotif>http://portail.test/paiement/notification/" in payfip.requests[0]

    # The return page may ask PayFiP (throttled), before any notification.
    payfip.result = "A"
    await payments.refresh_from_backend(started.payment_id, settings=settings, site_url="x")
    assert await _status(started.payment_id) == "created"  # asked less than 15 s ago
    clock.shift(20)
    await payments.refresh_from_backend(started.payment_id, settings=settings, site_url="x")
    # "cancelled" within the first minutes means "still on the payment page" for eopayment.
    assert await _status(started.payment_id) == "created"

    payfip.result = "P"
    with pytest.raises(payments.Rejected):
        await payments.handle_notification(
            started.payment_id, "idOp=autre-operation", settings=settings, site_url="x"
        )
    result = await payments.handle_notification(
        started.payment_id,
        "idOp=cc0cb210-1cd4-11ea-8cca-0213ad91a103",
        settings=settings,
        site_url="x",
    )
    assert result.status == "paid"
    [credit] = await _credits(setup.family_id)
    assert credit["amount_cents"] == 11804 and credit["piece_number"] == "112233445566-tip"
    assert any("recupererDetailPaiementSecurise" in r for r in payfip.requests)
