"""htmx fragments of the booking page: the board (selectors and calendar), a tap, a day."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from portal.db import read_snapshot
from portal.domain.booking import views
from portal.domain.french_dates import WEEKDAYS, long_date, month_label
from portal.pages.booking import (
    ICON_GLYPHS,
    calendar_context,
    day_context,
    handle_tap,
    times_url,
)
from portal.web.basket import load_basket, save_basket
from portal.web.context import Parent, ParentContext
from portal.web.forms import MultiForm, int_or_none


def _fragment(template: str, context: dict[str, Any], push_url: str | None = None) -> Template:
    headers = {"HX-Push-Url": push_url} if push_url else {}
    return Template(template_name=template, context={**context, "oob": True}, headers=headers)


@get("/partials/reservations/tableau")
async def board(
    request: Request[Any, Any, Any],
    parent: Parent,
    personne: FromQuery[str | None] = None,
    activite: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None,
) -> Template:
    async with read_snapshot():
        context = await calendar_context(request, parent, personne, activite, mois)
    return _fragment(
        "partials/booking/board_fragment.html",
        context,
        push_url="/reservations?" + context["selection"].query(),
    )


@post("/partials/reservations/basculer")
async def tap(
    request: Request[Any, Any, Any], parent: Parent, data: MultiForm
) -> Template | Response[str]:
    async with read_snapshot():  # a tap reads the register and writes only the session
        return await _tap(request, parent, data)


async def _tap(
    request: Request[Any, Any, Any], parent: ParentContext, data: dict[str, Any]
) -> Template | Response[str]:
    result = await handle_tap(request, parent, data)
    activity_id = int_or_none(data.get("activite_cible")) or result.selection.activity_id
    if result.outcome and result.outcome.needs_times and activity_id:
        # Time entry needs its own form: navigate there (htmx follows HX-Location).
        return Response(
            content="",
            headers={
                "HX-Location": times_url(
                    result.selection,
                    activity_id,
                    result.outcome.needs_times,
                    from_day=bool(int_or_none(data.get("activite_cible"))),
                )
            },
        )
    back = data.get("retour")
    if isinstance(back, str) and back.startswith("/reservations/jour/"):
        day_text = back.split("/reservations/jour/", 1)[1].split("?", 1)[0]
        context = await day_context(
            request,
            parent,
            day_text,
            result.selection.person_id,
            data.get("mois"),
            scope=result.scope,
        )
        context["error"] = result.error
        return _fragment("partials/booking/day_fragment.html", context)
    selection = result.selection
    activity = result.scope.activities.get(selection.activity_id or -1)
    quick_tool = not str(data.get("cible", "")).startswith("jour:")
    # No activity chosen, or a quick tool (many days, and the tools' own « Réserver … » /
    # « Annuler … » change with them): the board as it is now.
    if activity is None or quick_tool:
        context = await calendar_context(
            request, parent, selection.person_id, data.get("activite"), data.get("mois"),
            scope=result.scope,
        )  # fmt: skip
        context["error"] = result.error
        return _fragment("partials/booking/board_fragment.html", context)
    # Only what changed, out of band: the tapped days' cells, the basket bar, the error.
    basket = load_basket(request, parent.family_id)
    in_month = [d for d in result.days if (d.year, d.month) == (selection.year, selection.month)]
    cells = await views.cells_of(
        result.scope, selection.person_id, activity.id, in_month, basket,
        rows=result.outcome.rows if result.outcome else None,
    )  # fmt: skip
    save_basket(request, parent.family_id, basket)  # stale drafts were dropped
    fragment = _fragment(
        "partials/booking/tap_fragment.html",
        {
            "cells": cells,
            "activity": activity,
            "selection": selection,
            "error": result.error,
            "basket_count": len(basket),
            "month_label": month_label(selection.year, selection.month),
            "weekdays": WEEKDAYS,
            "glyphs": ICON_GLYPHS,
            "french_date": long_date,
        },
    )
    fragment.headers["HX-Reswap"] = "none"
    return fragment


@get("/partials/reservations/jour/{day_text:str}")
async def day(
    request: Request[Any, Any, Any],
    parent: Parent,
    day_text: FromPath[str],
    personne: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None,
) -> Template:
    context = await day_context(request, parent, day_text, personne, mois)
    query = urlencode({"personne": context["selection"].person_id})
    return _fragment(
        "partials/booking/day_fragment.html",
        context,
        push_url=f"/reservations/jour/{context['day'].isoformat()}?{query}",
    )


@get("/partials/reservations/panier")
async def basket_bar(request: Request[Any, Any, Any], parent: Parent) -> Template:
    basket = load_basket(request, parent.family_id)
    return Template(
        template_name="partials/booking/basket_bar.html", context={"basket_count": len(basket)}
    )


ROUTES = [board, tap, day, basket_bar]
