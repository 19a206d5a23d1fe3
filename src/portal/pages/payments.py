""" "Paiement et solde", the card payment, the platform's notification, the return page and
the local sandbox platform.

Redirect to the platform: the site's CSP says ``form-action 'self'`` and Chromium applies
form-action to the redirects that follow a form post, so a 303 from our POST to the bank
would be blocked. The POST therefore answers with an intermediate page whose link (or, for
platforms that want a POST, form) targets the bank; that response alone carries a CSP whose
form-action also allows the bank's origin, and a ``Refresh`` header that moves the browser
on by itself (a navigation that form-action does not govern).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from litestar import MediaType, Request, Response, get, post, route
from litestar.background_tasks import BackgroundTask
from litestar.enums import HttpMethod
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal import clock
from portal.domain.accounts.rules import split_emails
from portal.domain.money import rules as money_rules
from portal.domain.money import service as money
from portal.domain.money_format import format_euros
from portal.domain.payments import rules as payment_rules
from portal.domain.payments import service as payments
from portal.domain.payments.backends import (
    SANDBOX_RESULTS,
    Redirection,
    SandboxBackend,
    SandboxOrder,
)
from portal.settings import Settings
from portal.web.context import Parent, ParentContext
from portal.web.forms import Form
from portal.web.render import page
from portal.web.security import CONTENT_SECURITY_POLICY

log = logging.getLogger(__name__)


MAX_ID = 2**31 - 1
SANDBOX_LATE_SECONDS = 3.0
SANDBOX_NOTIFICATIONS = {
    "immediate": "Immédiate (avant le retour sur le portail)",
    "late": f"Tardive ({SANDBOX_LATE_SECONDS:.0f} s après le retour sur le portail)",
    "twice": "En double (deux notifications simultanées)",
    "never": "Jamais (la plateforme ne prévient pas le portail)",
}


def bad_request(message: str) -> HTTPException:
    return HTTPException(status_code=400, detail=message)


def today_for(parent: ParentContext) -> date:
    return clock.local_today(parent.family.structure_timezone)


def optional_date(raw: str | None, what: str) -> date | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise bad_request(f"« {raw} » n'est pas une date valide pour « {what} ».") from None


def site_url(request: Request[Any, Any, Any]) -> str:
    """The portal as this browser reaches it (scheme and host behind the proxy)."""
    return str(request.base_url).rstrip("/")


def _urls(request: Request[Any, Any, Any], kind: str) -> payments.PaymentUrls:
    settings: Settings = request.app.state.settings
    here = site_url(request)
    # A real platform calls the public address; the sandbox lives in this very server.
    local = kind in (payment_rules.SANDBOX, "dummy")
    return payments.PaymentUrls(site_url=here, notify_site_url=here if local else settings.base_url)


# --- "Paiement et solde" ---------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateQuery:
    until: date
    confirmed: bool
    waiting: bool


def estimate_query(
    parent: ParentContext,
    jusqu_au: str | None,
    confirmees: str | None,
    en_attente: str | None,
    calcul: str | None,
) -> EstimateQuery:
    until = optional_date(jusqu_au, "Calculer vos réservations jusqu'au")
    if calcul:  # the form was sent: an unticked box is simply absent
        confirmed, waiting = bool(confirmees), bool(en_attente)
    else:
        confirmed, waiting = True, True
    return EstimateQuery(
        until or money_rules.default_estimate_until(today_for(parent)), confirmed, waiting
    )


async def payment_page(
    request: Request[Any, Any, Any],
    parent: ParentContext,
    query: EstimateQuery,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    typed: dict[str, str] | None = None,
) -> Template:
    settings: Settings = request.app.state.settings
    overview = await money.payment_overview(
        parent.family_id, query.until, confirmed=query.confirmed, waiting=query.waiting
    )
    _, backend_label, available = await payments.payment_settings(parent.family_id, settings)
    typed = typed or {}
    amounts = {
        w.wallet_id: typed.get(
            f"montant-{w.wallet_id}", money_rules.amount_for_input(w.suggested_payment_cents)
        )
        for w in overview.wallets
    }
    emails = split_emails(parent.account.emails)
    pay_total, pay_total_error = typed_total(amounts.values())
    return page(
        request,
        "pages/money/payment.html",
        parent,
        status_code=status_code,
        page_title="Paiement et solde",
        nav_active="paiement",
        overview=overview,
        query=query,
        totals=overview.totals,
        amounts=amounts,
        pay_total=pay_total,
        pay_total_error=pay_total_error,
        email=typed.get("email", emails[0] if emails else ""),
        errors=errors or [],
        backend_label=backend_label,
        payment_available=available,
    )


@get("/paiement")
async def payment_get(
    request: Request[Any, Any, Any],
    parent: Parent,
    jusqu_au: FromQuery[str | None] = None,
    confirmees: FromQuery[str | None] = None,
    en_attente: FromQuery[str | None] = None,
    calcul: FromQuery[str | None] = None,
) -> Template:
    query = estimate_query(parent, jusqu_au, confirmees, en_attente, calcul)
    return await payment_page(request, parent, query)


def typed_total(values: Iterable[str]) -> tuple[str, bool]:
    """The total of the typed amounts, formatted, and whether one of them is unreadable."""
    try:
        total = sum(money_rules.parse_amount_cents(v, blank=0) for v in values)
    except money_rules.AmountError:
        return "", True
    return format_euros(total), False


def read_amounts(
    data: dict[str, str], wallets: list[money.WalletBalance]
) -> tuple[dict[int, int], list[str]]:
    """The amount typed for each of the family's wallets (other fields are ignored)."""
    amounts: dict[int, int] = {}
    errors: list[str] = []
    for wallet in wallets:
        raw = data.get(f"montant-{wallet.wallet_id}", "")
        try:
            amounts[wallet.wallet_id] = money_rules.parse_amount_cents(raw, blank=0)
        except money_rules.AmountError as exc:
            errors.append(f"{wallet.name} : {exc}")
    return amounts, errors


@post("/paiement")
async def payment_post(request: Request[Any, Any, Any], parent: Parent, data: Form) -> Template:
    settings: Settings = request.app.state.settings
    query = estimate_query(
        parent, data.get("jusqu_au"), data.get("confirmees"), data.get("en_attente"), "1"
    )
    wallets = await money.wallet_balances(parent.family_id)
    amounts, errors = read_amounts(data, wallets)
    email = data.get("email", "").strip()[:254]
    if not email:
        errors.append("L'adresse e-mail est obligatoire pour recevoir le ticket de paiement.")
    if not errors:
        kind, _, _ = await payments.payment_settings(parent.family_id, settings)
        try:
            started = await payments.start_payment(
                family_id=parent.family_id,
                account_id=parent.account_id,
                amounts=amounts,
                email=email,
                urls=_urls(request, kind),
                settings=settings,
            )
        except payments.PaymentError as exc:
            errors.append(str(exc))
    if errors:
        return await payment_page(
            request, parent, query, status_code=400, errors=errors, typed=dict(data)
        )
    return _redirection_page(request, parent, started)


def allow_form_action(response: Template, origin: str, here: str) -> None:
    """This response only: let forms (and the redirects after them) reach ``origin``."""
    if origin and origin != here:
        response.headers["content-security-policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )


def _redirection_page(
    request: Request[Any, Any, Any], parent: ParentContext, started: payments.StartedPayment
) -> Template:
    redirection = started.redirection
    response = page(
        request,
        "pages/payments/redirect.html",
        parent,
        page_title="Redirection vers le paiement sécurisé",
        nav_active="paiement",
        started=started,
        redirection=redirection,
    )
    allow_form_action(response, redirection.origin, site_url(request))
    if redirection.url and not redirection.is_form and not redirection.html:
        response.headers["refresh"] = f"0; url={redirection.url}"
    return response


# --- return page ----------------------------------------------------------------------------------


async def family_payment(
    request: Request[Any, Any, Any], parent: ParentContext, payment_id: int, *, ask_bank: bool
) -> payments.PaymentView:
    if payment_id > MAX_ID:
        raise NotFoundException()
    view = await payments.payment_view(payment_id, parent.family_id)  # NotFound: the 404 page
    if ask_bank and not view.is_final:
        settings: Settings = request.app.state.settings
        await payments.refresh_from_backend(
            payment_id, settings=settings, site_url=site_url(request)
        )
        view = await payments.payment_view(payment_id, parent.family_id)
    return view


@get("/paiement/retour/{payment_id:int}")
async def payment_return(
    request: Request[Any, Any, Any], parent: Parent, payment_id: FromPath[int]
) -> Template:
    # Whatever the platform appended to this URL is ignored: only our database speaks.
    view = await family_payment(request, parent, payment_id, ask_bank=True)
    return page(
        request,
        "pages/payments/return.html",
        parent,
        page_title="Résultat du paiement",
        nav_active="paiement",
        payment=view,
    )


# --- the platform's notification ---------------------------------------------------------------


@route(
    "/paiement/notification/{payment_id:int}",
    http_method=[HttpMethod.GET, HttpMethod.POST],
    opt={"exclude_from_csrf": True, "public": True},
    include_in_schema=False,
)
async def payment_notification(
    request: Request[Any, Any, Any], payment_id: FromPath[int]
) -> Response[str]:
    settings: Settings = request.app.state.settings
    body = (await request.body()).decode("utf-8", "replace") if request.method == "POST" else ""
    query_string = body or request.scope.get("query_string", b"").decode("latin-1")
    if payment_id > MAX_ID:
        return Response("inconnu", status_code=404, media_type=MediaType.TEXT)
    try:
        result = await payments.handle_notification(
            payment_id,
            query_string,
            settings=settings,
            site_url=site_url(request),
            client_ip=request.client.host if request.client else None,
        )
    except payments.NotFound:
        return Response("inconnu", status_code=404, media_type=MediaType.TEXT)
    except payments.Rejected:
        return Response("refusé", status_code=400, media_type=MediaType.TEXT)
    # 200, not the 201 of a POST handler: platforms retry anything else.
    return Response(result.content, status_code=200, media_type=MediaType.TEXT)


# --- the sandbox platform ----------------------------------------------------------------------


def _sandbox(request: Request[Any, Any, Any]) -> SandboxBackend:
    settings: Settings = request.app.state.settings
    return SandboxBackend(settings.secret_key, site_url(request))


def _sandbox_order(
    request: Request[Any, Any, Any], params: dict[str, str], ref: str
) -> SandboxOrder:
    order = _sandbox(request).order(params)
    if order is None or order.reference != ref:
        raise NotFoundException("Cette demande de paiement est inconnue ou a été modifiée.")
    return order


@get("/paiement/bac-a-sable/{reference:str}", opt={"public": True}, include_in_schema=False)
async def sandbox_page(request: Request[Any, Any, Any], reference: FromPath[str]) -> Template:
    params = {k: str(v) for k, v in request.query_params.items()}
    order = _sandbox_order(request, params, reference)
    response = page(
        request,
        "pages/payments/sandbox.html",
        None,
        page_title="Plateforme de paiement de démonstration",
        order=order,
        params=params,
        notifications=SANDBOX_NOTIFICATIONS,
    )
    # Like a bank's page, it sends the browser back to the portal after its form post.
    allow_form_action(response, Redirection(url=order.return_url).origin, site_url(request))
    return response


async def sandbox_notify(url: str, body: dict[str, str], delay: float = 0.0) -> None:
    """What a bank's server does: post the outcome to the merchant's notification URL."""
    if delay:
        await asyncio.sleep(delay)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(url, data=body)
        log.info("bac à sable : notification %s -> %s", url, answer.status_code)
    except httpx.HTTPError as exc:
        log.warning("bac à sable : notification %s impossible : %s", url, exc)


@post("/paiement/bac-a-sable/{reference:str}", opt={"public": True}, include_in_schema=False)
async def sandbox_submit(
    request: Request[Any, Any, Any], reference: FromPath[str], data: Form
) -> Redirect:
    order = _sandbox_order(request, data, reference)
    outcome = data.get("issue", "")
    mode = data.get("notification", "immediate")
    if outcome not in SANDBOX_RESULTS or mode not in SANDBOX_NOTIFICATIONS:
        raise bad_request("Choisissez « Payer », « Refuser » ou « Abandonner ».")
    body = _sandbox(request).notification(order, outcome)
    background = None
    if mode == "immediate":
        await sandbox_notify(order.notify_url, body)
    elif mode == "twice":
        await asyncio.gather(
            sandbox_notify(order.notify_url, body), sandbox_notify(order.notify_url, body)
        )
    elif mode == "late":
        background = BackgroundTask(sandbox_notify, order.notify_url, body, SANDBOX_LATE_SECONDS)
    return Redirect(path=order.return_url, status_code=303, background=background)


# --- htmx fragments ------------------------------------------------------------------------


@get("/paiement/retour/{payment_id:int}/etat")
async def payment_status_fragment(
    request: Request[Any, Any, Any], parent: Parent, payment_id: FromPath[int]
) -> Template:
    view = await family_payment(request, parent, payment_id, ask_bank=True)
    return Template(template_name="partials/money/payment_status.html", context={"payment": view})


@get("/paiement/total")
async def payment_total_fragment(request: Request[Any, Any, Any], parent: Parent) -> Template:
    """The total of the amounts typed so far in the payment form (its amount fields)."""
    wallets = await money.wallet_balances(parent.family_id)
    typed = [str(request.query_params.get(f"montant-{w.wallet_id}", "")) for w in wallets]
    pay_total, pay_total_error = typed_total(typed)
    return Template(
        template_name="partials/money/payment_total.html",
        context={"pay_total": pay_total, "pay_total_error": pay_total_error},
    )


ROUTES = [
    payment_status_fragment,
    payment_total_fragment,
    payment_get,
    payment_post,
    payment_return,
    payment_notification,
    sandbox_page,
    sandbox_submit,
]
