""" "Prélèvement automatique" for parents: sign a SEPA mandate online, download it as PDF,
revoke it. Only the family's own mandates: any other id is a 404."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.domain.numbers import parse_count
from portal.domain.papers import pdf
from portal.domain.papers import service as papers
from portal.domain.sepa import rules as sepa_rules
from portal.domain.sepa import service as sepa
from portal.pages.papers import MAX_ID, pdf_response
from portal.web.context import Parent, ParentContext
from portal.web.forms import Form
from portal.web.render import flash, page, see_other


async def _context(parent: ParentContext) -> dict[str, Any]:
    return {
        "creditor": await sepa.creditor(parent.structure_id),
        "mandate": await sepa.live_mandate(parent.family_id),
        "form": {"titulaire": parent.account.display_name, "iban": "", "bic": ""},
        "errors": [],
    }


def _page(
    request: Request[Any, Any, Any], parent: ParentContext, context: dict[str, Any], status: int
) -> Template:
    return page(
        request,
        "pages/sepa/index.html",
        parent,
        status_code=status,
        page_title="Prélèvement automatique",
        nav_active="paiement",
        **context,
    )


@get("/prelevement")
async def sepa_page(request: Request[Any, Any, Any], parent: Parent) -> Template:
    return _page(request, parent, await _context(parent), 200)


@post("/prelevement")
async def sign_mandate(
    request: Request[Any, Any, Any], parent: Parent, data: Form
) -> Template | Redirect:
    form = {k: str(data.get(k) or "")[:100] for k in ("titulaire", "iban", "bic")}
    try:
        mandate = await sepa.sign_online(
            parent.family_id,
            parent.account_id,
            form["titulaire"],
            form["iban"],
            form["bic"],
            agreed=data.get("accord") == "1",
        )
    except sepa_rules.SepaError as exc:
        context = await _context(parent)
        context["form"] = form
        context["errors"] = [str(exc)]
        return _page(request, parent, context, 400)
    flash(request, f"Mandat de prélèvement signé : référence {mandate.reference}.")
    return see_other("/prelevement")


@post("/prelevement/revoquer")
async def revoke_mandate(request: Request[Any, Any, Any], parent: Parent, data: Form) -> Redirect:
    mandate_id = parse_count(data.get("mandat"))
    if not mandate_id:
        raise NotFoundException("Ce mandat n'existe pas ou n'est pas accessible avec votre compte.")
    try:
        await sepa.family_mandate(parent.family_id, mandate_id)
    except sepa.NotFound:
        raise NotFoundException(
            "Ce mandat n'existe pas ou n'est pas accessible avec votre compte."
        ) from None
    if await sepa.revoke(parent.family_id, mandate_id, f"parent:{parent.account.login}"):
        flash(request, "Votre mandat de prélèvement est révoqué.")
    else:
        flash(request, "Ce mandat était déjà révoqué.", "info")
    return see_other("/prelevement")


@get("/prelevement/mandat/{mandate_id:int}")
async def mandate_pdf(parent: Parent, mandate_id: FromPath[int]) -> Response[bytes]:
    if not 0 < mandate_id <= MAX_ID:
        raise NotFoundException("Ce mandat n'existe pas ou n'est pas accessible avec votre compte.")
    try:
        mandate = await sepa.family_mandate(parent.family_id, mandate_id)
    except sepa.NotFound:
        raise NotFoundException(
            "Ce mandat n'existe pas ou n'est pas accessible avec votre compte."
        ) from None
    return pdf_response(await render_mandate(mandate), f"mandat-sepa-{mandate.reference}.pdf")


async def render_mandate(mandate: sepa.Mandate) -> bytes:
    """The mandate as PDF (also used by the back office)."""
    structure_id = await papers.family_structure(mandate.family_id)
    head = await papers.letterhead(structure_id)
    creditor = await sepa.creditor(structure_id)
    if creditor is None:
        raise NotFoundException("Cette structure ne propose plus le prélèvement automatique.")
    return await pdf.render_pdf(
        "sepa_mandate.html",
        title=f"Mandat de prélèvement SEPA {mandate.reference}",
        head=head,
        family=papers.FamilyHeader(mandate.family_id, mandate.family_name, structure_id),
        mandate=mandate,
        creditor=creditor,
        iban=sepa_rules.format_iban(mandate.iban),
    )


ROUTES = [sepa_page, sign_mandate, revoke_mandate, mandate_pdf]
