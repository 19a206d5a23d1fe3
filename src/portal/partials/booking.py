"""htmx fragments of the booking page: the board (selectors and calendar), a tap, a day."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from portal.db import read_snapshot
from portal.pages.booking import (
    calendar_context,
    day_context,
    fragment,
    tap_fragment,
)
from portal.web.basket import load_basket
from portal.web.booking_desk import parent_desk
from portal.web.context import Parent
from portal.web.forms import MultiForm


@get("/partials/reservations/tableau")
async def board(
    request: Request[Any, Any, Any],
    parent: Parent,
    personne: FromQuery[str | None] = None,
    activite: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None,
) -> Template:
    async with read_snapshot():
        context = await calendar_context(request, parent_desk(parent), personne, activite, mois)
    return fragment(
        "partials/booking/board_fragment.html",
        context,
        push_url="/reservations?" + context["selection"].query(),
    )


@post("/partials/reservations/basculer")
async def tap(
    request: Request[Any, Any, Any], parent: Parent, data: MultiForm
) -> Template | Response[str]:
    async with read_snapshot():  # a tap reads the register and writes only the session
        return await tap_fragment(request, parent_desk(parent), data)


@get("/partials/reservations/jour/{day_text:str}")
async def day(
    request: Request[Any, Any, Any],
    parent: Parent,
    day_text: FromPath[str],
    personne: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None,
) -> Template:
    context = await day_context(request, parent_desk(parent), day_text, personne, mois)
    query = urlencode({"personne": context["selection"].person_id})
    return fragment(
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
