"""Home page (the structure's news), structure switcher, static information pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from portal import clock
from portal.domain.accounts import service as accounts
from portal.domain.home import service as home_service
from portal.domain.numbers import parse_count
from portal.web.context import NAV, Parent
from portal.web.forms import Form
from portal.web.render import flash, page, see_other

NAV_URLS = {url for _, _, url in NAV}


@get("/")
async def home(request: Request[Any, Any, Any], parent: Parent) -> Template:
    now = clock.utcnow()
    today = clock.local_today(parent.family.structure_timezone)
    board = await home_service.dashboard(parent.family_id, parent.structure_id, today, now)
    return page(
        request, "pages/home.html", parent, page_title="Accueil", nav_active="accueil", board=board
    )


@post("/structure")
async def switch_structure(request: Request[Any, Any, Any], parent: Parent, data: Form) -> Redirect:
    family_id = parse_count(data.get("family_id"))
    try:
        if family_id is None:
            raise accounts.NotFound(family_id)
        family = await accounts.family_for_account(parent.account_id, family_id)
    except accounts.NotFound:
        raise NotFoundException("Structure inconnue pour ce compte.") from None
    request.session["family_id"] = family.family_id
    flash(request, f"Vous consultez maintenant : {family.structure_name}.")
    # Back to the same section in the other structure; ids in a deeper URL mean nothing there.
    section = urlsplit(request.headers.get("referer", "")).path
    return see_other(section if section in NAV_URLS else "/")


@get("/accessibilite", opt={"public": True, "revalidate": True})
async def accessibility(request: Request[Any, Any, Any]) -> Template:
    # No form, no token: the same bytes each time, so the browser revalidates (ETag, 304).
    return page(
        request,
        "pages/info/accessibility.html",
        page_title="Déclaration d'accessibilité",
        static_page=True,
    )


@get("/mentions", opt={"public": True, "revalidate": True})
async def legal(request: Request[Any, Any, Any]) -> Template:
    return page(
        request,
        "pages/info/legal.html",
        page_title="RGPD et conditions d'utilisation",
        static_page=True,
    )


ROUTES = [home, switch_structure, accessibility, legal]
