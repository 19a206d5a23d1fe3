"""Staff entrance (its own login, separate from parents'), the structure switch, the dashboard."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.stores.base import Store

from portal.domain.numbers import parse_count
from portal.domain.staff import mfa, overview
from portal.domain.staff import service as staff
from portal.domain.staff.roles import ANY_STAFF
from portal.settings import Settings
from portal.web import throttle
from portal.web.forms import MultiForm
from portal.web.render import logged_out, page, see_other
from portal.web.sessions import start_session
from portal.web.staff import CODE_URL, allow

from .common import Member, Staff, base_url, render


def _next_page(value: object) -> str:
    """Where to go after login: a back-office or admin page only (no open redirect)."""
    text = str(value or "")
    return text if text.startswith(("/gestion/", "/admin/")) and "//" not in text else ""


@get("/gestion/connexion")
async def staff_login_page(
    request: Request[Any, Any, Any], suite: FromQuery[str | None] = None
) -> Template:
    return page(
        request,
        "pages/staff/login.html",
        page_title="Espace gestion",
        error=None,
        identifier="",
        suite=_next_page(suite),
    )


@post("/gestion/connexion")
async def staff_login_submit(
    request: Request[Any, Any, Any], data: MultiForm
) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    store: Store = request.app.stores.get("throttle")
    identifier = str(data.get("identifier", "")).strip()[:150]
    address = request.client.host if request.client else "unknown"
    gate = throttle.LoginThrottle(store, settings, "staff-login")
    refusal = await gate.check(identifier, address)
    if refusal is not None:
        outcome = staff.StaffLogin(None, refusal.message)
    else:
        outcome = await staff.authenticate_staff(identifier, str(data.get("password", "")))
        if outcome.staff_id is None:
            await gate.failed(identifier, address)
        else:
            await gate.succeeded(identifier, address)
    if outcome.staff_id is None:
        response = page(
            request,
            "pages/staff/login.html",
            status_code=401 if refusal is None else 429,
            page_title="Espace gestion",
            error=outcome.error,
            identifier=identifier,
            suite=_next_page(data.get("suite")),
        )
        if refusal is not None:
            response.headers["retry-after"] = str(refusal.retry_after)
        return response
    suite = _next_page(data.get("suite"))
    if await mfa.is_enrolled(outcome.staff_id):
        # Password right: the second factor next, in a session that is not logged in yet.
        start_session(request, "mfa_pending", outcome.staff_id, outcome.session_epoch, suite=suite)
        return see_other(CODE_URL)
    start_session(request, "staff_id", outcome.staff_id, outcome.session_epoch, mfa=False)
    return see_other(suite or "/gestion")


@post("/gestion/deconnexion")
async def staff_logout(request: Request[Any, Any, Any]) -> Redirect:
    return logged_out(request, "/gestion/connexion")


@get("/gestion")
async def staff_home(
    request: Request[Any, Any, Any], member: Member, structure: FromQuery[str | None] = None
) -> Template | Redirect:
    """The dashboard of the structure asked (switcher), last used, or first served."""
    ids = await staff.structure_ids(member)
    if structure not in (None, ""):
        parsed = parse_count(str(structure))
        wanted = -1 if parsed is None else parsed
        if wanted not in ids:
            raise NotFoundException("Cette structure ne vous est pas rattachée.")
        return see_other(base_url(wanted))
    last = request.session.get("staff_structure_id")
    if last in ids:
        return see_other(base_url(int(last)))
    if ids:
        return see_other(base_url(ids[0]))
    return page(
        request,
        "pages/staff/no_structure.html",
        page_title="Espace gestion",
        member=member,
    )


@get("/gestion/s/{sid:int}", opt=allow(ANY_STAFF))
async def dashboard(request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]) -> Template:
    board = await overview.dashboard(
        ctx.sid, ctx.today, ctx.structure.last_transmission_at, ctx.member.is_admin
    )
    return render(
        request, ctx, "pages/staff/dashboard.html", title="Tableau de bord", nav="tableau",
        board=board,
    )  # fmt: skip


ROUTES = [staff_login_page, staff_login_submit, staff_logout, staff_home, dashboard]
