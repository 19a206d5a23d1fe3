"""Direct debit in the back office (Régie > Prélèvement): creditor settings, mandates (paper
ones recorded here), the monthly run, its pain.008 file, posting and the bank's rejects."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain.money.rules import Month
from portal.domain.numbers import parse_count
from portal.domain.papers import service as papers
from portal.domain.sepa import rules as sepa_rules
from portal.domain.sepa import service as sepa
from portal.domain.staff.roles import MONEY, MONEY_READ
from portal.pages.papers import pdf_response
from portal.pages.sepa import render_mandate
from portal.settings import Settings
from portal.web.forms import Form
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, parse_day, render


def _month_choices(ctx: StaffPage) -> list[Month]:
    current = Month.of(ctx.today)
    return [current.shift(i) for i in range(0, 3)]


def _chosen_month(raw: str | None, ctx: StaffPage) -> Month:
    choices = _month_choices(ctx)
    try:
        month = Month.parse(raw) if raw else choices[0]
    except ValueError:
        return choices[0]
    return month if month in choices else choices[0]


async def sepa_context(ctx: StaffPage, mois: str | None = None) -> dict[str, Any]:
    settings = await sepa.creditor(ctx.sid)
    month = _chosen_month(mois, ctx)
    plan = None
    plan_error = ""
    if settings is not None:
        try:
            plan = await sepa.plan_run(ctx.sid, month, ctx.today)
        except sepa_rules.SepaError as exc:
            plan_error = str(exc)
    return {
        "creditor": settings,
        "form": {
            "nom": settings.name if settings else ctx.structure.name[:70],
            "ics": settings.creditor_id if settings else "",
            "iban": sepa_rules.format_iban(settings.iban) if settings else "",
            "bic": settings.bic if settings else "",
            "jour": str(settings.debit_day) if settings else "10",
            "delai": str(settings.notice_days) if settings else str(sepa_rules.DEFAULT_NOTICE_DAYS),
            "base": settings.basis.value if settings else sepa_rules.Basis.DEBT.value,
            "actif": settings.active if settings else True,
        },
        "bases": list(sepa_rules.Basis),
        "mandates": await sepa.structure_mandates(ctx.sid),
        "families": await papers.structure_families(ctx.sid),
        "runs": await sepa.structure_runs(ctx.sid),
        "months": _month_choices(ctx),
        "month": month,
        "plan": plan,
        "plan_error": plan_error,
        "errors": [],
        "today": ctx.today,
    }


def _page(
    request: Request[Any, Any, Any], ctx: StaffPage, context: dict[str, Any], status: int = 200
) -> Template:
    return render(
        request, ctx, "pages/regie/sepa.html", title="Prélèvement automatique", nav="regie",
        status_code=status, **context,
    )  # fmt: skip


async def _error(
    request: Request[Any, Any, Any], ctx: StaffPage, message: str, mois: str | None = None
) -> Template:
    context = await sepa_context(ctx, mois)
    context["errors"] = [message]
    return _page(request, ctx, context, 400)


@get("/gestion/s/{sid:int}/regie/prelevement", opt=allow(MONEY_READ))
async def sepa_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    mois: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    return _page(request, ctx, await sepa_context(ctx, mois))


@post("/gestion/s/{sid:int}/regie/prelevement/parametres", opt=allow(MONEY))
async def save_settings(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: Form
) -> Template | Redirect:
    try:
        form = sepa.check_creditor_form(
            data.get("nom", ""), data.get("ics", ""), data.get("iban", ""), data.get("bic", ""),
            data.get("jour", ""), data.get("delai", ""), data.get("base", ""),
            data.get("actif") == "1",
        )  # fmt: skip
    except sepa_rules.SepaError as exc:
        return await _error(request, ctx, str(exc))
    await sepa.save_creditor(ctx.actor, ctx.sid, form)
    flash(request, "Paramètres du prélèvement enregistrés.")
    return see_other(f"{ctx.url}/regie/prelevement")


@post("/gestion/s/{sid:int}/regie/prelevement/mandats", opt=allow(MONEY))
async def record_paper_mandate(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: Form
) -> Template | Redirect:
    family = parse_count(data.get("famille"))
    signed_on = parse_day(data.get("signe_le"))
    if family is None:
        return await _error(request, ctx, "Choisissez la famille du mandat.")
    if signed_on is None:
        return await _error(request, ctx, "Indiquez la date de signature du mandat papier.")
    try:
        mandate = await sepa.record_paper_mandate(
            ctx.actor, ctx.sid, family, data.get("titulaire", ""), data.get("iban", ""),
            data.get("bic", ""), signed_on,
        )  # fmt: skip
    except sepa.NotFound:
        raise not_found("Cette famille") from None
    except sepa_rules.SepaError as exc:
        return await _error(request, ctx, str(exc))
    flash(request, f"Mandat papier enregistré pour {mandate.family_name} : {mandate.reference}.")
    return see_other(f"{ctx.url}/regie/prelevement")


async def _mandate(ctx: StaffPage, mid: int) -> sepa.Mandate:
    for mandate in await sepa.structure_mandates(ctx.sid):
        if mandate.mandate_id == mid:
            return mandate
    raise not_found("Ce mandat")


@post("/gestion/s/{sid:int}/regie/prelevement/mandats/{mandate_id:int}/revoquer", opt=allow(MONEY))
async def revoke_mandate(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], mandate_id: FromPath[int]
) -> Redirect:
    mandate = await _mandate(ctx, mandate_id)
    if await sepa.revoke(mandate.family_id, mandate_id, f"agent:{ctx.member.login}"):
        flash(request, f"Mandat {mandate.reference} révoqué.")
    else:
        flash(request, "Ce mandat était déjà révoqué.", "info")
    return see_other(f"{ctx.url}/regie/prelevement")


@get("/gestion/s/{sid:int}/regie/prelevement/mandats/{mandate_id:int}", opt=allow(MONEY_READ))
async def mandate_pdf(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], mandate_id: FromPath[int]
) -> Response[bytes]:
    mandate = await _mandate(ctx, mandate_id)
    return pdf_response(await render_mandate(mandate), f"mandat-sepa-{mandate.reference}.pdf")


@post("/gestion/s/{sid:int}/regie/prelevement/lancer", opt=allow(MONEY))
async def prepare_run(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: Form
) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    mois = data.get("mois")
    month = _chosen_month(mois, ctx)
    try:
        prepared = await sepa.prepare_run(
            ctx.actor, ctx.sid, month, ctx.today, base_url=settings.base_url
        )
    except sepa_rules.SepaError as exc:
        return await _error(request, ctx, str(exc), mois)
    if prepared.added:
        flash(
            request,
            f"Prélèvement de {month.label.lower()} préparé : {prepared.added} opération(s), "
            f"{prepared.notified} prénotification(s) envoyée(s).",
        )
    else:
        flash(request, "Rien de nouveau à prélever : ce mois est déjà préparé.", "info")
    return see_other(f"{ctx.url}/regie/prelevement/{prepared.run_id}")


async def _run(ctx: StaffPage, rid: int) -> sepa.Run:
    try:
        return await sepa.run_detail(ctx.sid, rid)
    except sepa.NotFound:
        raise not_found("Ce prélèvement") from None


@get("/gestion/s/{sid:int}/regie/prelevement/{run_id:int}", opt=allow(MONEY_READ))
async def run_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], run_id: FromPath[int]
) -> Template:
    run = await _run(ctx, run_id)
    return render(
        request, ctx, "pages/regie/run.html", title=f"Prélèvement {run.month.label}",
        nav="regie", run=run, reasons=sepa_rules.REJECT_REASONS, today=ctx.today,
        mask=sepa_rules.mask_iban,
    )  # fmt: skip


@get("/gestion/s/{sid:int}/regie/prelevement/{run_id:int}/pain008.xml", opt=allow(MONEY_READ))
async def run_xml(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], run_id: FromPath[int]
) -> Response[bytes] | Redirect:
    run = await _run(ctx, run_id)
    try:
        content = await sepa.pain008(ctx.sid, run_id)
    except sepa_rules.SepaError as exc:
        flash(request, str(exc), "error")
        return see_other(f"{ctx.url}/regie/prelevement/{run_id}")
    return Response(
        content=content,
        media_type="application/xml",
        headers={
            "content-disposition": f'attachment; filename="prelevement-{run.month.key}.xml"',
            "cache-control": "private, no-store",
        },
    )


@post("/gestion/s/{sid:int}/regie/prelevement/{run_id:int}/comptabiliser", opt=allow(MONEY))
async def post_run(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], run_id: FromPath[int]
) -> Redirect:
    await _run(ctx, run_id)
    try:
        count = await sepa.post_run(ctx.actor, ctx.sid, run_id, ctx.today)
    except sepa_rules.SepaError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"{count} prélèvement(s) crédité(s) aux porte-monnaie.")
    return see_other(f"{ctx.url}/regie/prelevement/{run_id}")


@post("/gestion/s/{sid:int}/regie/prelevement/rejets/{debit_id:int}", opt=allow(MONEY))
async def record_reject(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], debit_id: FromPath[int],
    data: Form,
) -> Redirect:  # fmt: skip
    settings: Settings = request.app.state.settings
    back = f"{ctx.url}/regie/prelevement"
    try:
        recorded = await sepa.record_reject(
            ctx.actor,
            ctx.sid,
            debit_id,
            data.get("motif", ""),
            ctx.today,
            base_url=settings.base_url,
        )
    except sepa.NotFound:
        raise not_found("Ce prélèvement") from None
    except sepa_rules.SepaError as exc:
        flash(request, str(exc), "error")
        return see_other(back)
    if recorded:
        flash(request, "Rejet enregistré : le porte-monnaie est débité et la famille prévenue.")
    else:
        flash(request, "Ce rejet était déjà enregistré.", "info")
    run = data.get("retour", "")
    return see_other(f"{back}/{run}" if run.isdigit() else back)


ROUTES = [
    sepa_page,
    save_settings,
    record_paper_mandate,
    revoke_mandate,
    mandate_pdf,
    prepare_run,
    run_page,
    run_xml,
    post_run,
    record_reject,
]
