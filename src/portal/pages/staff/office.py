"""Règlements (counter payments), Actualités (home-page news), Transmission and outbox."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal import clock
from portal.domain import form_fields as fields
from portal.domain.form_fields import FormError
from portal.domain.money import manual_form
from portal.domain.money.manual import MANUAL_MODES
from portal.domain.money_format import format_euros
from portal.domain.news import rules as news_rules
from portal.domain.paging.rules import Paging, page_number
from portal.domain.staff import families as family_service
from portal.domain.staff import news as news_service
from portal.domain.staff import overview, payments
from portal.domain.staff.roles import ANY_STAFF, MONEY, MONEY_READ, OPERATIONS, OPERATIONS_READ
from portal.domain.staff.service import NotFound
from portal.tables import Family, NewsItem
from portal.web.forms import MultiForm, int_or_none
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, render
from .exports import latest_nights

# --- payments ------------------------------------------------------------------------------


async def payments_context(
    ctx: StaffPage, famille: str | None, recherche: str | None
) -> dict[str, Any]:
    family: Family | None = None
    wallets: list[payments.WalletChoice] = []
    if famille not in (None, ""):
        family_id = int_or_none(famille)
        try:
            if family_id is None:
                raise NotFound(famille)
            family = await family_service.family_in(ctx.sid, family_id)
            wallets = await payments.family_wallets(ctx.sid, family_id)
        except NotFound:
            raise not_found("Cette famille") from None
    query = (recherche or "").strip()
    return {
        "family": family,
        "wallets": wallets,
        "query": query,
        "matches": await family_service.families(ctx.sid, query, limit=50)
        if query and family is None
        else [],
        "modes": MANUAL_MODES,
        "form": {
            "porte_monnaie": str(wallets[0].wallet_id) if wallets else "",
            "mode": "CHEQUE",
            "montant": "",
            "piece": "",
            "payeur": family.name if family else "",
            "banque": "",
            "date": ctx.today.isoformat(),
            "cle": secrets.token_urlsafe(16),
        },
        "errors": [],
        "recent": await payments.recent_payments(ctx.sid),
    }


@get("/gestion/s/{sid:int}/reglements", opt=allow(MONEY_READ))
async def payments_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    famille: FromQuery[str | None] = None, recherche: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    context = await payments_context(ctx, famille, recherche)
    return render(
        request, ctx, "pages/staff/payments.html", title="Règlements", nav="reglements", **context
    )


@post("/gestion/s/{sid:int}/reglements/{fid:int}", opt=allow(MONEY))
async def record_payment(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    context = await payments_context(ctx, str(fid), None)
    key = fields.field_text(data, "cle", 40)
    try:
        parsed = manual_form.parse_payment_form(
            data, [w.wallet_id for w in context["wallets"]], ctx.today
        )
        if len(key) < 16:
            raise FormError(["Le formulaire a expiré : rechargez la page."])
        recorded = await payments.record_payment(ctx.actor, ctx.sid, fid, parsed, key)
    except FormError as exc:
        context["errors"] = exc.errors
        context["form"] = {
            k: fields.field_text(data, k, 200)
            for k in ("porte_monnaie", "mode", "montant", "piece", "payeur", "banque", "date")
        } | {"cle": key or secrets.token_urlsafe(16)}
        return render(
            request, ctx, "pages/staff/payments.html", title="Règlements", nav="reglements",
            status_code=400, **context,
        )  # fmt: skip
    except NotFound:
        raise not_found("Ce porte-monnaie") from None
    if recorded:
        flash(
            request,
            f"{MANUAL_MODES[parsed.mode]} de {format_euros(parsed.amount_cents)} "
            f"enregistré pour {context['family'].name}.",
        )
    else:
        flash(request, "Ce règlement était déjà enregistré (formulaire envoyé deux fois).", "info")
    return see_other(f"{ctx.url}/reglements?famille={fid}")


# --- news ----------------------------------------------------------------------------------


def french_datetime(value: datetime | None, tz: ZoneInfo) -> str:
    """ "01/12/2026 à 19:10" in the structure's time zone."""
    return value.astimezone(tz).strftime("%d/%m/%Y à %H:%M") if value else ""


def news_form(item: NewsItem | None, ctx: StaffPage) -> dict[str, str]:
    if item is None:
        return {"titre": "", "texte": "", "visible_du": "", "visible_au": ""}
    return {
        "titre": item.title,
        "texte": item.body,
        "visible_du": fields.local_input(item.visible_from, ctx.tz),
        "visible_au": fields.local_input(item.visible_to, ctx.tz),
    }


async def news_context(ctx: StaffPage, item: NewsItem | None = None) -> dict[str, Any]:
    return {
        "items": await news_service.news_items(ctx.sid),
        "item": item,
        "form": news_form(item, ctx),
        "errors": [],
        "state": lambda n: news_rules.news_state(n.visible_from, n.visible_to, clock.utcnow()),
        "local": lambda value: french_datetime(value, ctx.tz),
    }


@get("/gestion/s/{sid:int}/actualites", opt=allow(OPERATIONS_READ))
async def news_page(request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]) -> Template:
    return render(
        request, ctx, "pages/staff/news.html", title="Actualités", nav="actualites",
        **await news_context(ctx),
    )  # fmt: skip


async def _news_item(ctx: StaffPage, nid: int) -> NewsItem:
    try:
        return await news_service.news_in(ctx.sid, nid)
    except NotFound:
        raise not_found("Cette actualité") from None


@get("/gestion/s/{sid:int}/actualites/{nid:int}", opt=allow(OPERATIONS_READ))
async def news_edit_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], nid: FromPath[int]
) -> Template:
    item = await _news_item(ctx, nid)
    return render(
        request, ctx, "pages/staff/news.html", title="Modifier une actualité", nav="actualites",
        **await news_context(ctx, item),
    )  # fmt: skip


async def _save_news(
    request: Request[Any, Any, Any], ctx: StaffPage, data: dict[str, Any], item: NewsItem | None
) -> Template | Redirect:
    try:
        parsed = news_rules.parse_news_form(data, ctx.tz)
    except FormError as exc:
        context = await news_context(ctx, item)
        context["errors"] = exc.errors
        context["form"] = {
            k: fields.field_text(data, k, 20_000)
            for k in ("titre", "texte", "visible_du", "visible_au")
        }
        return render(
            request, ctx, "pages/staff/news.html", title="Actualités", nav="actualites",
            status_code=400, **context,
        )  # fmt: skip
    if item is None:
        await news_service.publish(ctx.actor, ctx.sid, parsed)
        flash(request, f"Actualité « {parsed.title} » publiée.")
    else:
        await news_service.update(ctx.actor, ctx.sid, item.id, parsed)
        flash(request, f"Actualité « {parsed.title} » modifiée.")
    return see_other(f"{ctx.url}/actualites")


@post("/gestion/s/{sid:int}/actualites", opt=allow(OPERATIONS))
async def publish_news(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    return await _save_news(request, ctx, data, None)


@post("/gestion/s/{sid:int}/actualites/{nid:int}", opt=allow(OPERATIONS))
async def update_news(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], nid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    item = await _news_item(ctx, nid)
    return await _save_news(request, ctx, data, item)


@post("/gestion/s/{sid:int}/actualites/{nid:int}/retirer", opt=allow(OPERATIONS))
async def withdraw_news(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], nid: FromPath[int]
) -> Redirect:
    item = await _news_item(ctx, nid)
    await news_service.withdraw(ctx.actor, ctx.sid, item.id)
    flash(request, f"Actualité « {item.title} » retirée de la page d'accueil.")
    return see_other(f"{ctx.url}/actualites")


# --- transmission and outbox ---------------------------------------------------------------


@get("/gestion/s/{sid:int}/transmission", opt=allow(ANY_STAFF))
async def transmission_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    page: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    paging = Paging.of(page_number(page), await overview.count_outbox(ctx.sid, ctx.member.is_admin))
    emails = await overview.outbox(
        ctx.sid, ctx.member.is_admin, limit=paging.size, offset=paging.offset
    )
    return render(
        request, ctx, "pages/staff/transmission.html", title="Transmission", nav="transmission",
        emails=emails, paging=paging, list_url=f"{ctx.url}/transmission",
        local=lambda value: french_datetime(value, ctx.tz),
        **latest_nights(request, ctx),
    )  # fmt: skip


@post("/gestion/s/{sid:int}/transmission", opt=allow(OPERATIONS))
async def run_transmission(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]
) -> Redirect:
    outcome = await overview.run_transmission_now(ctx.actor, ctx.sid, request.app.state.settings)
    flash(request, outcome.summary, "success" if outcome.ok else "error")
    return see_other(f"{ctx.url}/transmission")


ROUTES = [
    payments_page,
    record_payment,
    news_page,
    news_edit_page,
    publish_news,
    update_news,
    withdraw_news,
    transmission_page,
    run_transmission,
]
