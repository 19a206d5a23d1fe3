"""Profile: password, e-mail addresses and open sessions, effective at once."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.domain.accounts import rules
from portal.domain.accounts import service as accounts
from portal.domain.money.rules import amount_for_input
from portal.domain.reminders import service as reminders
from portal.pages.notifications_card import notifications_context
from portal.web.context import Parent
from portal.web.forms import Form
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


async def _profile(
    request: Request[Any, Any, Any],
    parent: Parent,
    *,
    status_code: int = 200,
    password_errors: list[str] | None = None,
    email_errors: list[str] | None = None,
    emails_value: str | None = None,
    balance_errors: list[str] | None = None,
    notification_errors: list[str] | None = None,
) -> Template:
    people = await accounts.family_people(parent.family_id)
    alert = await reminders.alert_setting(parent.family_id)
    sessions = await list_sessions(
        session_store(request),
        "parent",
        parent.account_id,
        request.cookies.get("portal_session"),
        session_ttl(request),
    )
    return page(
        request,
        "pages/profile.html",
        parent,
        status_code=status_code,
        page_title="Profil",
        nav_active="profil",
        login=parent.account.login,
        family_name=parent.family.family_name,
        people=people,
        emails_value=emails_value
        if emails_value is not None
        else "; ".join(rules.split_emails(parent.account.emails)),
        password_errors=password_errors or [],
        email_errors=email_errors or [],
        password_rules=rules.PASSWORD_RULES_TEXT,
        balance_alert=alert,
        balance_threshold=amount_for_input(alert.threshold_cents),
        balance_errors=balance_errors or [],
        sessions=session_rows(sessions, parent.family.structure_timezone),
        notification_errors=notification_errors or [],
        **await notifications_context(request, parent),
    )


@get("/profil")
async def profile_page(request: Request[Any, Any, Any], parent: Parent) -> Template:
    return await _profile(request, parent)


@post("/profil/mot-de-passe")
async def change_password(
    request: Request[Any, Any, Any], parent: Parent, data: Form
) -> Template | Redirect:
    errors = await accounts.change_password(
        parent.account_id,
        data.get("current_password", ""),
        data.get("password", ""),
        data.get("password_confirm", ""),
    )
    if errors:
        return await _profile(request, parent, status_code=400, password_errors=errors)
    epoch = await accounts.session_epoch(parent.account_id)
    await keep_after_password_change(request, "parent", parent.account_id, epoch)
    flash(request, f"Votre mot de passe a été changé. {OTHERS_CLOSED}")
    return see_other("/profil")


@post("/profil/courriels")
async def change_emails(
    request: Request[Any, Any, Any], parent: Parent, data: Form
) -> Template | Redirect:
    raw = data.get("emails", "")[:2000]
    _, errors = await accounts.update_emails(parent.account_id, raw)
    if errors:
        return await _profile(
            request, parent, status_code=400, email_errors=errors, emails_value=raw
        )
    flash(request, "Vos adresses e-mail ont été enregistrées.")
    return see_other("/profil")


@post("/profil/sessions/{handle:str}/deconnecter")
async def end_other_session(
    request: Request[Any, Any, Any], parent: Parent, handle: FromPath[str]
) -> Redirect:
    if handle_of(request.cookies.get("portal_session", "")) == handle:
        return logged_out(request, "/connexion?etat=deconnecte")
    ended = await end_session(
        session_store(request), "parent", parent.account_id, handle[:40], session_ttl(request)
    )
    flash(
        request,
        "La session a été fermée sur cet appareil."
        if ended
        else "Cette session était déjà fermée.",
    )
    return see_other("/profil#sessions-title")


ROUTES = [profile_page, change_password, change_emails, end_other_session]
