"""Tranches: the structure's tariff bands by quotient familial, each family's band, and the
band a clerk chooses for a family (audited)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.domain.quotient import rules, service
from portal.domain.staff.roles import ANY_STAFF, MONEY
from portal.domain.staff.service import NotFound
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, render


async def bands_context(ctx: StaffPage) -> dict[str, Any]:
    defined = await service.bands(ctx.sid)
    return {
        "bands": defined,
        "bands_text": rules.format_bands(defined),
        "families": await service.family_bands(ctx.sid, ctx.today),
        "errors": [],
    }


def _page(
    request: Request[Any, Any, Any], ctx: StaffPage, context: dict[str, Any], status: int = 200
) -> Template:
    return render(
        request, ctx, "pages/staff/quotient.html", title="Tranches tarifaires",
        nav="tranches", status_code=status, **context,
    )  # fmt: skip


@get("/gestion/s/{sid:int}/tranches", opt=allow(ANY_STAFF))
async def bands_page(request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]) -> Template:
    return _page(request, ctx, await bands_context(ctx))


@post("/gestion/s/{sid:int}/tranches", opt=allow(MONEY))
async def save_bands(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    text = str(data.get("tranches") or "")
    try:
        saved = await service.save_bands(ctx.actor, ctx.sid, text)
    except service.BandError as exc:
        context = await bands_context(ctx)
        context.update(errors=exc.errors, bands_text=text[:5000])
        return _page(request, ctx, context, 400)
    flash(
        request,
        ("1 tranche enregistrée" if len(saved) == 1 else f"{len(saved)} tranches enregistrées")
        + ". « Appliquer les tranches » met les familles à jour.",
    )
    return see_other(f"{ctx.url}/tranches")


@post("/gestion/s/{sid:int}/tranches/appliquer", opt=allow(MONEY))
async def apply_bands(request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]) -> Redirect:
    changed = await service.apply_bands(ctx.actor, ctx.sid, ctx.today)
    flash(
        request,
        ("1 famille changée" if changed == 1 else f"{changed} familles changées") + " de tranche."
        if changed
        else "Toutes les familles sont déjà dans leur tranche.",
    )
    return see_other(f"{ctx.url}/tranches")


@post("/gestion/s/{sid:int}/tranches/familles/{fid:int}", opt=allow(MONEY))
async def override_band(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    try:
        await service.set_override(
            ctx.actor, ctx.sid, fid, str(data.get("tranche") or "")[:20],
            str(data.get("motif") or ""), ctx.today,
        )  # fmt: skip
    except NotFound:
        raise not_found("Cette famille") from None
    except service.BandError as exc:
        context = await bands_context(ctx)
        context["errors"] = exc.errors
        return _page(request, ctx, context, 400)
    flash(request, "Tranche de la famille enregistrée.")
    return see_other(f"{ctx.url}/tranches")


ROUTES = [bands_page, save_bands, apply_bands, override_band]
