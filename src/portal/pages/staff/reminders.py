"""Debt reminders in the back office (Régie > Relances): the families in debt beyond N
days, first and second reminder e-mails from the structure's templates, a printable
letter, each reminder recorded; and the low-balance alerts switch."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain.papers import pdf
from portal.domain.papers import service as papers
from portal.domain.papers.rules import file_slug
from portal.domain.reminders import service as reminders
from portal.domain.reminders.rules import PLACEHOLDERS, TemplateError
from portal.domain.staff.roles import MONEY, MONEY_READ
from portal.pages.papers import pdf_response
from portal.settings import Settings
from portal.web.forms import Form, int_or_none
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, render


async def reminders_context(ctx: StaffPage, jours: str | None = None) -> dict[str, Any]:
    settings = await reminders.reminder_settings(ctx.sid)
    days = int_or_none(jours)
    if days is None or not 0 <= days <= 365:
        days = settings.debt_days
    return {
        "settings": settings,
        "days": days,
        "debtors": await reminders.debtors(ctx.sid, ctx.today, days),
        "templates": await reminders.templates(ctx.sid),
        "placeholders": PLACEHOLDERS,
        "key": secrets.token_urlsafe(16),
        "errors": [],
    }


def _page(
    request: Request[Any, Any, Any], ctx: StaffPage, context: dict[str, Any], status: int = 200
) -> Template:
    return render(
        request, ctx, "pages/regie/reminders.html", title="Relances", nav="regie",
        status_code=status, **context,
    )  # fmt: skip


@get("/gestion/s/{sid:int}/regie/relances", opt=allow(MONEY_READ))
async def reminders_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    jours: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    return _page(request, ctx, await reminders_context(ctx, jours))


async def _error(request: Request[Any, Any, Any], ctx: StaffPage, message: str) -> Template:
    context = await reminders_context(ctx)
    context["errors"] = [message]
    return _page(request, ctx, context, 400)


@post("/gestion/s/{sid:int}/regie/relances/parametres", opt=allow(MONEY))
async def save_settings(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: Form
) -> Template | Redirect:
    days = int_or_none(data.get("jours"))
    try:
        if days is None:
            raise TemplateError("Indiquez un nombre de jours.")
        await reminders.save_settings(ctx.actor, ctx.sid, data.get("alertes") == "1", days)
    except TemplateError as exc:
        return await _error(request, ctx, str(exc))
    flash(request, "Paramètres des relances enregistrés.")
    return see_other(f"{ctx.url}/regie/relances")


@post("/gestion/s/{sid:int}/regie/relances/soldes-bas", opt=allow(MONEY))
async def check_now(request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]) -> Redirect:
    settings: Settings = request.app.state.settings
    outcome = await reminders.check_low_balances(ctx.sid, base_url=settings.base_url)
    flash(
        request,
        f"Soldes vérifiés pour {outcome.checked} famille(s) : {outcome.alerted} alerte(s) "
        "envoyée(s).",
    )
    return see_other(f"{ctx.url}/regie/relances")


@post("/gestion/s/{sid:int}/regie/relances/modeles/{level:int}", opt=allow(MONEY))
async def save_template(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], level: FromPath[int],
    data: Form,
) -> Template | Redirect:  # fmt: skip
    try:
        await reminders.save_template(
            ctx.actor, ctx.sid, level, data.get("objet", ""), data.get("texte", "")
        )
    except TemplateError as exc:
        return await _error(request, ctx, str(exc))
    flash(request, f"Modèle de la {'1re' if level == 1 else '2e'} relance enregistré.")
    return see_other(f"{ctx.url}/regie/relances")


@dataclass(frozen=True)
class _Choice:
    family_id: int
    level: int


def _choice(data: dict[str, str]) -> _Choice | None:
    family, level = int_or_none(data.get("famille")), int_or_none(data.get("niveau"))
    if family is None or level not in (1, 2):
        return None
    return _Choice(family, level)


@post("/gestion/s/{sid:int}/regie/relances/envoyer", opt=allow(MONEY))
async def send_reminder(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: Form
) -> Template | Redirect:
    choice = _choice(data)
    key = str(data.get("cle") or "")
    if choice is None or len(key) < 16:
        return await _error(request, ctx, "Le formulaire a expiré : rechargez la page.")
    try:
        sent = await reminders.send_reminder(
            ctx.actor, ctx.sid, choice.family_id, choice.level, ctx.today, key=key
        )
    except reminders.NotFound:
        raise not_found("Cette famille en dette") from None
    except TemplateError as exc:
        return await _error(request, ctx, str(exc))
    if sent:
        flash(request, f"{'1re' if choice.level == 1 else '2e'} relance envoyée par e-mail.")
    else:
        flash(request, "Cette relance était déjà envoyée (formulaire envoyé deux fois).", "info")
    return see_other(f"{ctx.url}/regie/relances")


@post("/gestion/s/{sid:int}/regie/relances/lettre", opt=allow(MONEY))
async def print_letter(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: Form
) -> Response[bytes] | Template:
    choice = _choice(data)
    if choice is None:
        return await _error(request, ctx, "Choisissez la famille et le niveau de relance.")
    try:
        letter = await reminders.letter(
            ctx.actor, ctx.sid, choice.family_id, choice.level, ctx.today
        )
    except reminders.NotFound:
        raise not_found("Cette famille en dette") from None
    head = await papers.letterhead(ctx.sid)
    content = await pdf.render_pdf(
        "reminder_letter.html",
        title=letter.subject,
        head=head,
        family=papers.FamilyHeader(letter.family_id, letter.family_name, ctx.sid),
        letter=letter,
        paper=_Issued(ctx.today),
    )
    return pdf_response(content, f"relance-{choice.level}-{file_slug(letter.family_name)}.pdf")


@dataclass(frozen=True)
class _Issued:
    issued_on: date


ROUTES = [
    reminders_page,
    save_settings,
    check_now,
    save_template,
    send_reminder,
    print_letter,
]
