"""« Ajouter à mon agenda »: the family's private ICS address, with instructions for
Google, Apple and Outlook; regenerated or revoked from here and from the profile.

The address is shown once, right after it is made: only a hash of its token is kept.
The feed itself is public to whoever holds the address (calendar apps send no cookie).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.domain.calendar_feed import service as feeds
from portal.settings import Settings
from portal.web.context import Parent
from portal.web.forms import Form
from portal.web.render import flash, page, see_other

SESSION_KEY = "new_calendar_feed"


def _back(data: dict[str, str]) -> str:
    return "/profil" if data.get("retour") == "profil" else "/agenda"


@get("/agenda")
async def feed_page(request: Request[Any, Any, Any], parent: Parent) -> Template:
    settings: Settings = request.app.state.settings
    fresh = request.session.pop(SESSION_KEY, None) if request.scope.get("session") else None
    token = fresh.get("token") if isinstance(fresh, dict) else None
    if isinstance(fresh, dict) and fresh.get("family_id") != parent.family_id:
        token = None
    url = feeds.feed_url(settings.base_url, token) if token else None
    # webcal:// opens the device's own calendar app on the subscription screen.
    webcal = "webcal://" + url.split("://", 1)[1] if url else None
    return page(
        request, "pages/calendar_feed/index.html", parent, page_title="Ajouter à mon agenda",
        nav_active="suivi", state=await feeds.feed_state(parent.family_id), url=url,
        webcal=webcal,
    )  # fmt: skip


@post("/agenda/generer")
async def feed_generate(request: Request[Any, Any, Any], parent: Parent, data: Form) -> Redirect:
    token = await feeds.regenerate(parent.family_id)
    request.session[SESSION_KEY] = {"family_id": parent.family_id, "token": token}
    flash(request, "Nouvelle adresse d'agenda créée : l'ancienne ne fonctionne plus.")
    return see_other("/agenda#adresse")


@post("/agenda/revoquer")
async def feed_revoke(request: Request[Any, Any, Any], parent: Parent, data: Form) -> Redirect:
    if await feeds.revoke(parent.family_id):
        flash(
            request, "Adresse d'agenda supprimée : vos agendas ne recevront plus vos réservations."
        )
    else:
        flash(request, "Aucune adresse d'agenda n'était active.", "info")
    return see_other(_back(data))


@get("/agenda/{token:str}", opt={"public": True, "skip_session": True}, include_in_schema=False)
async def feed(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    settings: Settings = request.app.state.settings
    try:
        body = await feeds.render_feed(token.removesuffix(".ics"), settings.base_url)
    except feeds.FeedNotFound:
        raise NotFoundException("Cet agenda n'existe pas ou a été supprimé.") from None
    return Response(
        content=body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "content-disposition": 'inline; filename="reservations.ics"',
            "cache-control": "private, no-store",
        },
    )


ROUTES = [feed_page, feed_generate, feed_revoke, feed]
