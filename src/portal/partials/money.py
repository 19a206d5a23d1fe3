"""htmx fragments of the money pages: the payment status polled on the return page, and the
total of the amounts being typed in the payment form."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from portal.domain.money import service as money
from portal.pages.payments import family_payment, typed_total
from portal.web.context import Parent


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


ROUTES = [payment_status_fragment, payment_total_fragment]
