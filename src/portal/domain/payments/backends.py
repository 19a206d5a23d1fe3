"""Payment platforms behind one small interface: eopayment's backends (PayFiP web-service,
TIPI, SystemPay, Paybox, Ogone, ...) and a local sandbox that behaves like a platform.

Every call here is synchronous (eopayment talks to PayFiP through zeep/requests); the
service runs them in a worker thread.
"""

from __future__ import annotations

import decimal
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import eopayment

from portal.domain.numbers import parse_count
from portal.domain.payments import rules
from portal.domain.payments.rules import Limits

# Options of ours, never passed to eopayment.
PRIVATE_OPTIONS = frozenset({"service_url", "allowed_notify_ips", "allow_sandbox", "label"})

LABELS = {
    rules.SANDBOX: "bac à sable (paiement fictif)",
    "payfip_ws": "PayFiP",
    "tipi": "TIPI (PayFiP)",
    "dummy": "paiement de test Entr'ouvert",
    "systempayv2": "SystemPay",
    "payzen": "PayZen",
    "paybox": "Paybox",
    "ogone": "Ogone",
    "sips2": "Sips",
    "mollie": "Mollie",
    "keyware": "Keyware",
    "saga": "Saga",
    "worldline": "Worldline",
}

PAYFIP_BINDING = (
    "{http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/"
    "contrat_paiement_securise/PaiementSecuriseService}PaiementSecuriseServicePortBinding"
)


class BackendError(RuntimeError):
    """The platform could not be reached or refused the request."""


class NotificationRejected(ValueError):
    """A notification that cannot be trusted or parsed."""


@dataclass(frozen=True)
class Redirection:
    """Where to send the parent's browser: a URL, a form to post, or HTML from the bank."""

    url: str
    method: str = "GET"
    fields: list[tuple[str, str]] = field(default_factory=list)
    html: str = ""

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

    @property
    def is_form(self) -> bool:
        return bool(self.fields) or self.method.upper() == "POST"


@dataclass(frozen=True)
class BankAnswer:
    status: str  # rules.PAID / REFUSED / ABANDONED / ERROR / WAITING
    signed: bool
    order_id: str
    transaction_id: str
    reference: str  # shown as "N° de pièce"
    amount_cents: int | None
    bank_data: dict[str, str]
    return_content: str | None = None

    def matches(self, transaction_id: str) -> bool:
        return transaction_id in {self.order_id, self.transaction_id}


@dataclass(frozen=True)
class PaymentRequest:
    amount_cents: int
    email: str
    reference: str
    subject: str
    return_url: str
    notify_url: str


class Backend(Protocol):
    kind: str
    label: str
    limits: Limits
    has_status: bool

    def request(self, req: PaymentRequest) -> tuple[str, Redirection]: ...

    def response(self, query_string: str, transaction_id: str) -> BankAnswer: ...

    def status(self, transaction_id: str, created_at: datetime | None) -> BankAnswer: ...


# --- eopayment ------------------------------------------------------------------------------


def _first(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return None if value in (None, "") else str(value)


class EopaymentBackend:
    """One eopayment backend configured from ``Structure.payment_options``."""

    def __init__(self, kind: str, options: Mapping[str, Any]) -> None:
        try:
            backend_class = eopayment.get_backend(kind)
        except ImportError:
            raise BackendError(f"moyen de paiement inconnu : {kind!r}") from None
        self.kind = kind
        self.options = {k: v for k, v in options.items() if k not in PRIVATE_OPTIONS}
        self.service_url = options.get("service_url")
        self.label = str(options.get("label") or LABELS.get(kind, kind))
        self.limits = rules.KNOWN_LIMITS.get(kind) or Limits(
            _to_cents(getattr(backend_class, "minimal_amount", None)) or 1,
            _to_cents(getattr(backend_class, "maximal_amount", None)),
        )
        self.has_status = kind == "payfip_ws"

    def _payment(self, return_url: str = "", notify_url: str = "") -> eopayment.Payment:
        options = dict(self.options)
        if return_url:
            options["normal_return_url"] = return_url
        if notify_url:
            options["automatic_return_url"] = notify_url
        payment = eopayment.Payment(self.kind, options)
        if self.kind == "payfip_ws" and self.service_url:
            # A PayFiP stand-in (tests, a staging platform): same WSDL, another address.
            client = payment.backend.payfip.client
            client._default_service = client.create_service(PAYFIP_BINDING, self.service_url)
        return payment

    def request(self, req: PaymentRequest) -> tuple[str, Redirection]:
        payment = self._payment(req.return_url, req.notify_url)
        amount = rules.cents_to_decimal_string(req.amount_cents)
        kwargs: dict[str, Any] = {"email": req.email}
        if self.kind in ("tipi", "payfip_ws"):
            kwargs["refdet"] = req.reference
            if self.kind == "payfip_ws":
                kwargs["subject"] = req.subject
        else:
            kwargs["orderid"] = req.reference
            kwargs["subject"] = req.subject
        try:
            transaction_id, kind, data = payment.request(amount, **kwargs)
        except Exception as exc:  # eopayment raises ValueError, PayFiPError, requests errors...
            raise BackendError(f"{type(exc).__name__}: {exc}") from exc
        if kind == eopayment.URL:
            return str(transaction_id), Redirection(url=str(data))
        if kind == eopayment.FORM:
            fields = [(str(f["name"]), str(f.get("value", ""))) for f in data.fields]
            return str(transaction_id), Redirection(url=data.url, method=data.method, fields=fields)
        return str(transaction_id), Redirection(url="", html=str(data))

    def response(self, query_string: str, transaction_id: str) -> BankAnswer:
        if self.kind == "payfip_ws":
            # PayFiP posts "idOp=..."; the outcome itself is asked to its web service.
            given = parse_qs(query_string)
            idop = (given.get("idOp") or given.get("idop") or [""])[0]
            if idop != transaction_id:
                raise NotificationRejected("identifiant d'opération PayFiP inattendu")
            return self.status(transaction_id, None)
        try:
            answer = self._payment().response(query_string)
        except Exception as exc:  # ResponseError, signature errors, malformed data
            raise NotificationRejected(f"{type(exc).__name__}: {exc}") from exc
        return self._answer(answer)

    def status(self, transaction_id: str, created_at: datetime | None) -> BankAnswer:
        try:
            answer = self._payment().payment_status(transaction_id, transaction_date=created_at)
        except Exception as exc:
            raise BackendError(f"{type(exc).__name__}: {exc}") from exc
        return self._answer(answer)

    def _answer(self, answer: Any) -> BankAnswer:
        data = answer.bank_data or {}
        amount = None
        if self.kind in ("tipi", "payfip_ws") and (montant := _first(data, "montant")):
            amount = _cents(montant)
        reference = _first(data, "numauto") or str(answer.transaction_id or answer.order_id or "")
        return BankAnswer(
            status=rules.status_from_result(answer.result),
            signed=bool(answer.signed),
            order_id=str(answer.order_id or ""),
            transaction_id=str(answer.transaction_id or ""),
            reference=reference[:60],
            amount_cents=amount,
            bank_data=rules.scrub_bank_data(data),
            return_content=answer.return_content,
        )


def _to_cents(value: Any) -> int | None:
    if value is None:
        return None
    return int(decimal.Decimal(value) * 100)


# --- the sandbox ---------------------------------------------------------------------------

SANDBOX_RESULTS = {"paid": "P", "refused": "R", "abandoned": "A"}
_SANDBOX_STATUS = {"P": rules.PAID, "R": rules.REFUSED, "A": rules.ABANDONED}


@dataclass(frozen=True)
class SandboxOrder:
    """A payment request as the sandbox platform received it (signed by the portal)."""

    reference: str
    amount_cents: int
    email: str
    return_url: str
    notify_url: str


class SandboxBackend:
    """A platform that lives in the portal itself: pages under /paiement/bac-a-sable/ let
    you pay, refuse or abandon, and notify the portal server-to-server like a bank.

    Requests and notifications are signed with a key derived from the portal's secret, so
    neither a parent nor anyone else can forge a "paid" notification.
    """

    kind = rules.SANDBOX
    label = LABELS[rules.SANDBOX]
    limits = rules.KNOWN_LIMITS[rules.SANDBOX]
    has_status = False

    def __init__(self, secret_key: str, platform_url: str) -> None:
        self._key = hashlib.sha256(f"sandbox-payments:{secret_key}".encode()).digest()
        self.platform_url = platform_url.rstrip("/")

    def _sign(self, purpose: str, params: Mapping[str, str]) -> str:
        canonical = urlencode(sorted((k, v) for k, v in params.items() if k != "sig"))
        return hmac.new(self._key, f"{purpose}|{canonical}".encode(), hashlib.sha256).hexdigest()

    def _verified(self, purpose: str, params: Mapping[str, str]) -> bool:
        # Bytes: compare_digest raises TypeError on a non-ASCII str ("sig=é").
        given = str(params.get("sig", "")).encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self._sign(purpose, params).encode())

    def request(self, req: PaymentRequest) -> tuple[str, Redirection]:
        params = {
            "ref": req.reference,
            "amount": str(req.amount_cents),
            "email": req.email,
            "return_url": req.return_url,
            "notify_url": req.notify_url,
        }
        params["sig"] = self._sign("request", params)
        url = f"{self.platform_url}/paiement/bac-a-sable/{req.reference}?{urlencode(params)}"
        return req.reference, Redirection(url=url)

    def order(self, params: Mapping[str, str]) -> SandboxOrder | None:
        """The signed order behind a sandbox page, or None if it was tampered with."""
        wanted = ("ref", "amount", "email", "return_url", "notify_url", "sig")
        clean = {k: str(params.get(k, "")) for k in wanted}
        amount = _cents(clean["amount"])
        if not self._verified("request", clean) or amount < 0:
            return None
        return SandboxOrder(
            clean["ref"],
            amount,
            clean["email"],
            clean["return_url"],
            clean["notify_url"],
        )

    def notification(self, order: SandboxOrder, outcome: str) -> dict[str, str]:
        """The body the platform posts to the portal for ``outcome`` (paid/refused/abandoned)."""
        params = {
            "ref": order.reference,
            "result": SANDBOX_RESULTS[outcome],
            "amount": str(order.amount_cents),
            "auth": f"BAS{secrets.randbelow(10**9):09d}" if outcome == "paid" else "",
        }
        params["sig"] = self._sign("notify", params)
        return params

    def response(self, query_string: str, transaction_id: str) -> BankAnswer:
        params = {k: v[0] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        if not {"ref", "result", "amount", "sig"} <= params.keys():
            raise NotificationRejected("notification incomplète")
        signed = self._verified("notify", params)
        amount = _cents(params["amount"])
        return BankAnswer(
            status=_SANDBOX_STATUS.get(params["result"], rules.ERROR),
            signed=signed,
            order_id=params["ref"],
            transaction_id=params["ref"],
            reference=(params.get("auth") or params["ref"])[:60],
            amount_cents=amount,
            bank_data=rules.scrub_bank_data({k: v for k, v in params.items() if k != "sig"}),
            return_content="OK",
        )

    def status(self, transaction_id: str, created_at: datetime | None) -> BankAnswer:
        raise BackendError("le bac à sable n'a pas de service de consultation")


def _cents(text: str) -> int:
    """An amount in cents as the platforms write it (ASCII digits), else -1."""
    value = parse_count(text)
    return -1 if value is None else value


def make_backend(
    kind: str, options: Mapping[str, Any], *, secret_key: str, site_url: str
) -> Backend:
    """The backend configured for a structure; ``site_url`` is where the sandbox lives."""
    if kind == rules.SANDBOX:
        return SandboxBackend(secret_key, str(options.get("platform_url") or site_url))
    return EopaymentBackend(kind, options)
