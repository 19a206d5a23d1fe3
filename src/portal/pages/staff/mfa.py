"""Staff second factor: the code step of the login, and enrolment in the staff profile."""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.stores.base import Store

from portal.domain.staff import mfa
from portal.settings import Settings
from portal.tables import StaffMember, StaffTotp
from portal.web import throttle
from portal.web.forms import MultiForm
from portal.web.render import flash, page, see_other
from portal.web.sessions import start_session
from portal.web.staff import CODE_URL, LOGIN_URL, MFA_SETUP, MFA_URL, Member

from .account import PROFILE_URL

PENDING_SECONDS = 5 * 60
NO_STORE = {"cache-control": "no-store"}


async def _pending(request: Request[Any, Any, Any]) -> StaffMember | None:
    """The staff member between password and code, if that step is still fresh."""
    session = request.session
    staff_id = session.get("mfa_pending")
    if not isinstance(staff_id, int) or time.time() - float(session.get("started_at", 0)) > (
        PENDING_SECONDS
    ):
        return None
    member = await StaffMember.objects().where(StaffMember.id == staff_id).first()
    if member is None or session.get("epoch", 0) != member.session_epoch:
        return None
    return member


async def _demo_code(settings: Settings, staff_id: int) -> str | None:
    """In demo mode only, the current code, so that the demo logins work without a phone."""
    if not settings.demo_mode:
        return None
    row = await StaffTotp.objects().where(StaffTotp.staff == staff_id).first()
    return mfa.current_code(str(row.secret)) if row is not None else None


async def _code_page(
    request: Request[Any, Any, Any], member: StaffMember, *, error: str | None, status: int
) -> Template:
    settings: Settings = request.app.state.settings
    return page(
        request,
        "pages/staff/account/code.html",
        status_code=status,
        page_title="Espace gestion · code de vérification",
        error=error,
        demo_code=await _demo_code(settings, int(member.id)),
    )


@get(CODE_URL)
async def code_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    member = await _pending(request)
    if member is None:
        return see_other(LOGIN_URL)
    return await _code_page(request, member, error=None, status=200)


@post(CODE_URL)
async def code_submit(request: Request[Any, Any, Any], data: MultiForm) -> Template | Redirect:
    member = await _pending(request)
    if member is None:
        # Said only in the session of a login that lapsed: a flash would store a session for
        # any anonymous POST here, one per request.
        if request.session:
            flash(request, "Le délai pour saisir le code est dépassé : reconnectez-vous.", "error")
        return see_other(LOGIN_URL)
    settings: Settings = request.app.state.settings
    store: Store = request.app.stores.get("throttle")
    address = request.client.host if request.client else "unknown"
    gate = throttle.LoginThrottle(store, settings, "staff-code")
    refusal = await gate.check(str(member.login), address)
    if refusal is not None:
        response = await _code_page(request, member, error=refusal.message, status=429)
        response.headers["retry-after"] = str(refusal.retry_after)
        return response
    if not await mfa.verify(int(member.id), str(data.get("code", ""))[:40]):
        await gate.failed(str(member.login), address)
        return await _code_page(
            request, member, error="Code incorrect ou déjà utilisé.", status=401
        )
    await gate.succeeded(str(member.login), address)
    suite = str(request.session.get("suite") or "")
    start_session(request, "staff_id", int(member.id), int(member.session_epoch), mfa=True)
    return see_other(suite or "/gestion")


async def _mfa_page(
    request: Request[Any, Any, Any],
    member: StaffMember,
    *,
    status_code: int = 200,
    error: str | None = None,
    recovery_codes: list[str] | None = None,
) -> Template:
    from .account import _layout

    state = await mfa.second_factor(int(member.id))
    enrolment = None if state.enrolled else await mfa.pending_enrolment(member)
    response = page(
        request,
        "pages/staff/account/mfa.html",
        status_code=status_code,
        layout=await _layout(request, member),
        page_title="Double authentification",
        member=member,
        state=state,
        enrolment=enrolment,
        session_verified=bool(request.session.get("mfa")),
        error=error,
        recovery_codes=recovery_codes or [],
    )
    response.headers.update(NO_STORE)  # a secret or recovery codes may be on it
    return response


@get(MFA_URL, opt=MFA_SETUP)
async def mfa_page(request: Request[Any, Any, Any], member: Member) -> Template:
    return await _mfa_page(request, member)


@post(f"{MFA_URL}/activer", opt=MFA_SETUP)
async def mfa_enable(request: Request[Any, Any, Any], member: Member, data: MultiForm) -> Template:
    codes = await mfa.confirm_enrolment(int(member.id), str(data.get("code", ""))[:40])
    if codes is None:
        return await _mfa_page(
            request,
            member,
            status_code=400,
            error="Code incorrect : vérifiez l'heure du téléphone et saisissez le code affiché.",
        )
    request.session["mfa"] = True
    return await _mfa_page(request, member, recovery_codes=codes)


@post(f"{MFA_URL}/valider", opt=MFA_SETUP)
async def mfa_verify_session(
    request: Request[Any, Any, Any], member: Member, data: MultiForm
) -> Template | Redirect:
    if not await mfa.verify(int(member.id), str(data.get("code", ""))[:40]):
        return await _mfa_page(
            request, member, status_code=400, error="Code incorrect ou déjà utilisé."
        )
    request.session["mfa"] = True
    flash(request, "Session vérifiée par la double authentification.")
    return see_other(MFA_URL)


@post(f"{MFA_URL}/codes-de-secours")
async def mfa_renew_codes(
    request: Request[Any, Any, Any], member: Member, data: MultiForm
) -> Template:
    codes = await mfa.renew_recovery_codes(int(member.id), str(data.get("code", ""))[:40])
    if codes is None:
        return await _mfa_page(
            request, member, status_code=400, error="Code incorrect ou déjà utilisé."
        )
    return await _mfa_page(request, member, recovery_codes=codes)


@post(f"{MFA_URL}/desactiver")
async def mfa_disable(
    request: Request[Any, Any, Any], member: Member, data: MultiForm
) -> Template | Redirect:
    error = await mfa.disable(member, str(data.get("code", ""))[:40])
    if error:
        return await _mfa_page(request, member, status_code=400, error=error)
    request.session["mfa"] = False
    flash(request, "La double authentification est désactivée.")
    return see_other(PROFILE_URL)


ROUTES = [
    code_page,
    code_submit,
    mfa_page,
    mfa_enable,
    mfa_verify_session,
    mfa_renew_codes,
    mfa_disable,
]
