"""A staff member's own account: password, open sessions, second factor (/gestion/profil)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal import clock
from portal.domain.accounts import rules
from portal.domain.staff import mfa
from portal.domain.staff import service as staff
from portal.tables import StaffMember
from portal.web.forms import MultiForm
from portal.web.render import flash, logged_out, page, see_other
from portal.web.sessions import (
    OTHERS_CLOSED,
    end_session,
    handle_of,
    keep_after_password_change,
    list_sessions,
    session_rows,
    session_store,
    session_ttl,
)
from portal.web.staff import MFA_SETUP, OWN_ACCOUNT, Member, staff_page

PROFILE_URL = "/gestion/profil"


async def _layout(request: Request[Any, Any, Any], member: StaffMember) -> dict[str, Any] | None:
    """The header of the structure last used (or the first one), if the member has any."""
    ids = await staff.structure_ids(member)
    if not ids:
        return None
    last = request.session.get("staff_structure_id")
    ctx = await staff_page(request, member, int(last) if last in ids else ids[0])
    return ctx.layout


async def render_profile(
    request: Request[Any, Any, Any],
    member: StaffMember,
    *,
    status_code: int = 200,
    password_errors: list[str] | None = None,
    **extra: Any,
) -> Template:
    sessions = await list_sessions(
        session_store(request),
        "staff",
        int(member.id),
        request.cookies.get("portal_session"),
        session_ttl(request),
    )
    context: dict[str, Any] = {
        "page_title": "Mon profil",
        "member": member,
        "password_errors": password_errors or [],
        "password_rules": rules.PASSWORD_RULES_TEXT,
        "sessions": session_rows(sessions, clock.DEFAULT_TIMEZONE),
        "second_factor": await mfa.second_factor(int(member.id)),
        **extra,
    }
    return page(
        request,
        "pages/staff/account/profile.html",
        status_code=status_code,
        layout=await _layout(request, member),
        **context,
    )


@get(PROFILE_URL, opt=MFA_SETUP)
async def staff_profile(request: Request[Any, Any, Any], member: Member) -> Template:
    return await render_profile(request, member)


@post(f"{PROFILE_URL}/mot-de-passe", opt=OWN_ACCOUNT)
async def staff_change_password(
    request: Request[Any, Any, Any], member: Member, data: MultiForm
) -> Template | Redirect:
    errors = await staff.change_staff_password(
        int(member.id),
        str(data.get("current_password", "")),
        str(data.get("password", "")),
        str(data.get("password_confirm", "")),
    )
    if errors:
        return await render_profile(request, member, status_code=400, password_errors=errors)
    epoch = await staff.staff_session_epoch(int(member.id))
    await keep_after_password_change(request, "staff", int(member.id), epoch)
    flash(request, f"Votre mot de passe a été changé. {OTHERS_CLOSED}")
    return see_other(PROFILE_URL)


@post(f"{PROFILE_URL}/sessions/{{handle:str}}/deconnecter")
async def staff_end_session(
    request: Request[Any, Any, Any], member: Member, handle: FromPath[str]
) -> Redirect:
    if handle_of(request.cookies.get("portal_session", "")) == handle:
        return logged_out(request, "/gestion/connexion")
    ended = await end_session(
        session_store(request), "staff", int(member.id), handle[:40], session_ttl(request)
    )
    flash(request, "La session a été fermée sur cet appareil." if ended else "Session déjà fermée.")
    return see_other(f"{PROFILE_URL}#sessions-title")


ROUTES = [staff_profile, staff_change_password, staff_end_session]
