"""Staff entrance: its own login, separate from parents' sessions keys."""

from __future__ import annotations

import time
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.stores.base import Store

from portal.domain.accounts import rules
from portal.domain.staff import service as staff
from portal.settings import Settings
from portal.tables import StaffMember
from portal.web import throttle
from portal.web.context import RedirectTo, session_expired
from portal.web.render import page, see_other
from portal.web.sessions import request_session_rotation

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


async def load_staff(request: Request[Any, Any, Any]) -> StaffMember:
    settings: Settings = request.app.state.settings
    staff_id = request.session.get("staff_id")
    now = time.time()
    if not staff_id or session_expired(request.session, settings, now):
        raise RedirectTo("/gestion/connexion")
    member = await StaffMember.objects().where(StaffMember.id == staff_id).first()
    if member is None:
        request.clear_session()
        raise RedirectTo("/gestion/connexion")
    request.session["seen_at"] = now
    return member


@get("/gestion/connexion")
async def staff_login_page(request: Request[Any, Any, Any]) -> Template:
    return page(
        request, "pages/staff/login.html", page_title="Espace gestion", error=None, identifier=""
    )


@post("/gestion/connexion")
async def staff_login_submit(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    store: Store = request.app.stores.get("throttle")
    identifier = data.get("identifier", "").strip()[:150]
    client = request.client.host if request.client else "unknown"
    count = await throttle.count_attempt(store, f"staff-login:{client}", 15 * 60)
    if count > 30:
        outcome = staff.StaffLogin(None, "Trop de tentatives : patientez quelques minutes.")
    else:
        outcome = await staff.authenticate_staff(
            identifier,
            data.get("password", "")[:1024],
            rules.LockoutPolicy(settings.login_max_failures, settings.login_lock_minutes),
        )
    if outcome.staff_id is None:
        return page(
            request,
            "pages/staff/login.html",
            status_code=401 if count <= 30 else 429,
            page_title="Espace gestion",
            error=outcome.error,
            identifier=identifier,
        )
    now = time.time()
    request.set_session({"staff_id": outcome.staff_id, "started_at": now, "seen_at": now})
    request_session_rotation(request)
    return see_other("/gestion")


@get("/gestion")
async def staff_home(
    request: Request[Any, Any, Any], member: NamedDependency[StaffMember]
) -> Template:
    structures = await staff.staff_structures(member.id)
    return page(
        request,
        "pages/staff/home.html",
        page_title="Espace gestion",
        member=member,
        structures=structures,
    )


@post("/gestion/deconnexion")
async def staff_logout(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return see_other("/gestion/connexion")


ROUTES = [staff_login_page, staff_login_submit, staff_home, staff_logout]
