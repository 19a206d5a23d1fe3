"""Cuisine: a day's numbers per activity, school and diet (tomorrow by default), printable,
and the kitchen's address to which they are e-mailed when booking closes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain.file_review import health_access
from portal.domain.french_dates import long_date
from portal.domain.kitchen import service
from portal.domain.staff.roles import OPERATIONS, OPERATIONS_READ
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, parse_day, render


async def kitchen_context(ctx: StaffPage, jour: str | None) -> dict[str, Any]:
    day = parse_day(jour) or ctx.today + timedelta(days=1)
    sheet, named = await service.sheet_for_staff(ctx.actor, ctx.sid, day)
    return {
        "sheet": sheet,
        "named": named,
        "day": day,
        "day_label": long_date(day),
        "previous_day": (day - timedelta(days=1)).isoformat(),
        "next_day": (day + timedelta(days=1)).isoformat(),
        "settings": await service.settings_of(ctx.sid),
        "errors": [],
    }


@get("/gestion/s/{sid:int}/cuisine", opt=allow(OPERATIONS_READ))
async def kitchen_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    jour: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    context = await kitchen_context(ctx, jour)
    return render(
        request, ctx, "pages/staff/kitchen.html", title=context["sheet"].title, nav="cuisine",
        **context,
    )  # fmt: skip


@post("/gestion/s/{sid:int}/cuisine/adresse", opt=allow(OPERATIONS))
async def save_kitchen_address(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    try:
        saved = await service.save_settings(ctx.actor, ctx.sid, str(data.get("adresse") or ""))
    except health_access.HealthDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except service.KitchenError as exc:
        context = await kitchen_context(ctx, None)
        context["errors"] = [str(exc)]
        return render(
            request, ctx, "pages/staff/kitchen.html", title=context["sheet"].title,
            nav="cuisine", status_code=400, **context,
        )  # fmt: skip
    flash(
        request,
        f"Les effectifs seront envoyés à {saved.kitchen_email.replace(';', ', ')} "
        "à la fermeture des réservations de chaque jour."
        if saved.kitchen_email
        else "Les effectifs ne seront plus envoyés par e-mail.",
    )
    return see_other(f"{ctx.url}/cuisine")


ROUTES = [kitchen_page, save_kitchen_address]
