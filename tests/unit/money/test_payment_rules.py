"""Payment rules and the sandbox's signatures."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import eopayment
import pytest

from portal.domain.payments import rules
from portal.domain.payments.backends import (
    EopaymentBackend,
    NotificationRejected,
    PaymentRequest,
    SandboxBackend,
    make_backend,
)

REQUEST = PaymentRequest(
    amount_cents=11804,
    email="a@example.fr",
    reference="PF2026111200000000000001",
    subject="Mairie famille DUPONT",
    return_url="http://portail.test/paiement/retour/1",
    notify_url="http://portail.test/paiement/notification/1",
)


def test_transitions() -> None:
    assert rules.transition_allowed("created", "paid")
    assert rules.transition_allowed("abandoned", "paid")  # the bank took the money after all
    assert not rules.transition_allowed("paid", "paid")
    assert not rules.transition_allowed("paid", "refused")
    assert rules.transition_allowed("created", "refused")
    assert not rules.transition_allowed("refused", "abandoned")
    assert rules.status_from_result(eopayment.PAID) == "paid"
    assert rules.status_from_result(eopayment.ACCEPTED) == "waiting"  # authorised only
    assert rules.status_from_result(eopayment.EXPIRED) == "abandoned"
    assert rules.status_from_result(None) == "waiting"


def test_no_card_data_is_kept() -> None:
    kept = rules.scrub_bank_data(
        {
            "vads_card_number": "497010XXXXXX0000",
            "vads_expiry_month": "12",
            "CARTE": "x",
            "pan": "4970",
            "numauto": ["595926"],
            "refdet": "PF1",
            "montant": 11804,
        }
    )
    assert kept == {"numauto": "595926", "refdet": "PF1", "montant": "11804"}


def test_reference_is_a_valid_refdet() -> None:
    reference = rules.make_reference(42, datetime(2026, 11, 12, 10, 55, 32))
    assert reference == "PF2026111210553200000042"
    assert 6 <= len(reference) <= 30 and reference.isalnum()


def test_sandbox_orders_and_notifications_are_signed() -> None:
    sandbox = SandboxBackend("s" * 48, "http://portail.test")
    reference, redirection = sandbox.request(REQUEST)
    params = {k: v[0] for k, v in parse_qs(urlsplit(redirection.url).query).items()}
    order = sandbox.order(params)
    assert order is not None and order.amount_cents == 11804 and reference == order.reference
    assert sandbox.order({**params, "amount": "1"}) is None
    assert sandbox.order({**params, "return_url": "https://evil.example"}) is None
    other_site = SandboxBackend("t" * 48, "http://portail.test")
    assert other_site.order(params) is None

    body = sandbox.notification(order, "paid")
    answer = sandbox.response(urlencode(body), reference)
    assert answer.signed and answer.status == "paid" and answer.matches(reference)
    assert answer.amount_cents == 11804 and answer.reference.startswith("BAS")
    assert not sandbox.response(urlencode({**body, "result": "R"}), reference).signed
    assert not other_site.response(urlencode(body), reference).signed
    with pytest.raises(NotificationRejected):
        sandbox.response("ref=x", reference)


def test_eopayment_backends_and_limits() -> None:
    tipi = make_backend("tipi", {"numcli": "123456"}, secret_key="k", site_url="http://x")
    assert isinstance(tipi, EopaymentBackend) and tipi.label == "TIPI (PayFiP)"
    transaction, redirection = tipi.request(REQUEST)
    assert transaction == REQUEST.reference
    assert redirection.origin == "https://www.payfip.gouv.fr" and not redirection.is_form
    payfip = make_backend("payfip_ws", {"numcli": "090909"}, secret_key="k", site_url="x")
    assert payfip.has_status and payfip.limits == rules.Limits(100, 10_000_000)
    dummy = make_backend("dummy", {}, secret_key="k", site_url="x")
    assert dummy.limits.minimum_cents == 1
