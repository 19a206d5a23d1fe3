"""The structure's family-file rules in the back office: required fields, the yearly
"mise à jour du dossier" (with an e-mail asking the families), the retention period."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.domain.family_file.rules import FIELDS
from portal.domain.file_review import file_settings as service
from portal.domain.staff.roles import OPERATIONS, OPERATIONS_READ
from portal.settings import Settings
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, render
from .common import values as form_values


def _page(
    request: Request[Any, Any, Any], ctx: StaffPage, view: service.FileSettingsView,
    *, errors: list[str] | None = None, status_code: int = 200,
) -> Template:  # fmt: skip
    return render(
        request, ctx, "pages/staff_file/settings.html", title="Réglages du dossier",
        nav="dossiers", status_code=status_code, view=view, fields=FIELDS, errors=errors or [],
    )  # fmt: skip


@get("/gestion/s/{sid:int}/dossiers/reglages", opt=allow(OPERATIONS_READ))
async def file_settings_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]
) -> Template:
    return _page(request, ctx, await service.file_settings(ctx.sid))


@post("/gestion/s/{sid:int}/dossiers/reglages", opt=allow(OPERATIONS))
async def save_file_settings(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    settings: Settings = request.app.state.settings

    def text(name: str) -> str:
        found = form_values(data, name)
        return found[0] if found else ""

    form = service.SettingsInput(
        required_fields=form_values(data, "champs"),
        deadline=text("date_limite"),
        message=text("message"),
        retention_months=text("conservation"),
        notify=text("prevenir") == "1",
    )
    outcome = await service.save_file_settings(ctx.actor, ctx.sid, form, base_url=settings.base_url)
    if outcome.errors:
        view = await service.file_settings(ctx.sid)
        return _page(request, ctx, view, errors=outcome.errors, status_code=400)
    message = "Réglages du dossier enregistrés."
    if form.notify:
        message += f" {outcome.emailed} famille(s) prévenue(s) par e-mail."
    flash(request, message)
    return see_other(f"{ctx.url}/dossiers/reglages")


ROUTES = [file_settings_page, save_file_settings]
