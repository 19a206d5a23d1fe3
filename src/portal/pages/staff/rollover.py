"""Nouvelle année: the school holiday zone, a preview of the rollover, and the rollover."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain.rollover import rules, service
from portal.domain.staff.roles import OPERATIONS, OPERATIONS_READ
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, parse_day, render

WEEKDAY_NAMES = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


async def rollover_context(ctx: StaffPage, du: Any, au: Any) -> dict[str, Any]:
    default_first, default_last = rules.next_school_year(ctx.today)
    first = parse_day(str(du or "")) or default_first
    last = parse_day(str(au or "")) or default_last
    errors: list[str] = []
    planned: list[service.PlannedActivity] = []
    try:
        planned = await service.plan(ctx.sid, first, last)
    except service.RolloverError as exc:
        errors.append(str(exc))
    return {
        "zone": await service.zone_of(ctx.sid),
        "zones": rules.ZONES,
        "first": first,
        "last": last,
        "planned": planned,
        "weekday_names": WEEKDAY_NAMES,
        "errors": errors,
    }


@get("/gestion/s/{sid:int}/annee", opt=allow(OPERATIONS_READ))
async def rollover_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    du: FromQuery[str | None] = None, au: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    context = await rollover_context(ctx, du, au)
    return render(
        request, ctx, "pages/staff/rollover.html", title="Nouvelle année scolaire",
        nav="annee", **context,
    )  # fmt: skip


@post("/gestion/s/{sid:int}/annee/zone", opt=allow(OPERATIONS))
async def save_zone(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    try:
        await service.save_zone(ctx.actor, ctx.sid, str(data.get("zone") or ""))
    except service.RolloverError as exc:
        context = await rollover_context(ctx, None, None)
        context["errors"] = [str(exc)]
        return render(
            request, ctx, "pages/staff/rollover.html", title="Nouvelle année scolaire",
            nav="annee", status_code=400, **context,
        )  # fmt: skip
    flash(request, "Zone de vacances scolaires enregistrée.")
    return see_other(f"{ctx.url}/annee")


@post("/gestion/s/{sid:int}/annee/reconduire", opt=allow(OPERATIONS))
async def roll_over(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    context = await rollover_context(ctx, data.get("du"), data.get("au"))
    if not context["errors"]:
        try:
            count = await service.roll_over(ctx.actor, ctx.sid, context["first"], context["last"])
        except service.RolloverError as exc:
            context["errors"] = [str(exc)]
        else:
            flash(
                request,
                ("1 activité reconduite" if count == 1 else f"{count} activités reconduites")
                + " ; celles de l'année écoulée sont archivées.",
            )
            return see_other(f"{ctx.url}/activites")
    return render(
        request, ctx, "pages/staff/rollover.html", title="Nouvelle année scolaire",
        nav="annee", status_code=400, **context,
    )  # fmt: skip


ROUTES = [rollover_page, save_zone, roll_over]
