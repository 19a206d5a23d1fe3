"""Login, logout, forgotten password and reset."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.stores.base import Store

from portal.db import collect_after_commit
from portal.domain.accounts import rules
from portal.domain.accounts import service as accounts
from portal.settings import Settings
from portal.web import throttle
from portal.web.forms import Form
from portal.web.render import logged_out, page, see_other
from portal.web.sessions import start_session

log = logging.getLogger(__name__)


# Reset requests per client address in the window: high, since many parents can share
# one mobile-network address (login throttling is in portal.web.throttle.LoginThrottle).
ADDRESS_WINDOW_SECONDS = 15 * 60


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would make phishing links look legitimate.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _demo_logins(settings: Settings) -> list[dict[str, str]]:
    if not settings.demo_mode:
        return []
    return [
        {"login": "dupont", "password": "Demo-Dupont-2026", "who": "famille DUPONT (2 structures)"},
        {"login": "martin", "password": "Demo-Martin-2026", "who": "famille MARTIN (en dette)"},
        {"login": "durand", "password": "Demo-Durand-2026", "who": "première connexion à faire"},
        {"login": "gestion", "password": "Demo-Gestion-2026", "who": "agent de la mairie"},
        {
            "login": "admin",
            "password": "Demo-Admin-2026-!",
            "who": "administrateur du portail, code de vérification affiché à la connexion",
        },
        {"login": "regie", "password": "Demo-Regie-2026", "who": "régisseuse de la mairie"},
        {"login": "direction", "password": "Demo-Direction-2026", "who": "direction (lecture)"},
    ]


LOGIN_NOTICES = {
    "deconnecte": "Vous êtes déconnecté. À bientôt !",
    "mot-de-passe-change": "Votre mot de passe a été changé. Vos autres sessions ont été "
    "fermées. Connectez-vous avec le nouveau.",
    "session-expiree": "Votre session a expiré : reconnectez-vous.",
    "session-fermee": "Votre session a été fermée (mot de passe changé ou déconnexion depuis "
    "un autre appareil) : reconnectez-vous.",
}


@get("/connexion", name="login")
async def login_page(
    request: Request[Any, Any, Any],
    suite: FromQuery[str | None] = None,
    etat: FromQuery[str | None] = None,
) -> Template:
    settings: Settings = request.app.state.settings
    return page(
        request,
        "pages/auth/login.html",
        page_title="Connexion",
        notice=LOGIN_NOTICES.get(etat or ""),
        next=_safe_next(suite),
        demo_logins=_demo_logins(settings),
        error=None,
        identifier="",
    )


@post("/connexion")
async def login_submit(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    store: Store = request.app.stores.get("throttle")
    identifier = data.get("identifier", "").strip()[:150]
    password = data.get("password", "")  # never truncated: see accounts.authenticate
    next_url = _safe_next(data.get("next"))

    def refuse(message: str, status: int) -> Template:
        return page(
            request,
            "pages/auth/login.html",
            status_code=status,
            page_title="Connexion",
            next=next_url,
            demo_logins=_demo_logins(settings),
            error=message,
            identifier=identifier,
        )

    if not identifier or not password:
        return refuse("Saisissez votre identifiant et votre mot de passe.", 400)
    gate = throttle.LoginThrottle(store, settings, "login")
    address = _client(request)
    refusal = await gate.check(identifier, address)
    if refusal is not None:
        response = refuse(refusal.message, 429)
        response.headers["retry-after"] = str(refusal.retry_after)
        return response
    outcome = await accounts.authenticate(identifier, password)
    if outcome.account_id is None:
        await gate.failed(identifier, address)
        return refuse(outcome.error or accounts.GENERIC_LOGIN_ERROR, 401)
    await gate.succeeded(identifier, address)
    start_session(request, "account_id", outcome.account_id, outcome.session_epoch)
    return see_other(next_url)


@post("/deconnexion")
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    return logged_out(request, "/connexion?etat=deconnecte")


@get("/mot-de-passe-oublie")
async def forgot_page(request: Request[Any, Any, Any]) -> Template:
    return page(
        request, "pages/auth/forgot.html", page_title="Mot de passe oublié", sent=False, errors=[]
    )


@post("/mot-de-passe-oublie")
async def forgot_submit(request: Request[Any, Any, Any], data: Form) -> Template:
    settings: Settings = request.app.state.settings
    store: Store = request.app.stores.get("throttle")
    identifier = data.get("identifier", "").strip()[:150]
    email = data.get("email", "").strip()[:254]
    errors = []
    if not identifier:
        errors.append("Saisissez votre identifiant.")
    if not email:
        errors.append("Saisissez l'adresse e-mail connue de votre structure.")
    if errors:
        return page(
            request,
            "pages/auth/forgot.html",
            status_code=400,
            page_title="Mot de passe oublié",
            sent=False,
            errors=errors,
        )
    count = await throttle.count_attempt(
        store, f"reset:{throttle.address_group(_client(request))}", ADDRESS_WINDOW_SECONDS
    )
    queued = False
    if count <= settings.login_address_max_failures:
        # The e-mail is queued in the outbox with the token, in one transaction.
        async with collect_after_commit(run_at_exit=False) as after_commit:
            queued = await accounts.request_password_reset(
                identifier, email, settings.base_url, settings.reset_token_minutes
            )
    # Same page, same timing path either way: the relay is woken after the response.
    response = page(
        request, "pages/auth/forgot.html", page_title="Mot de passe oublié", sent=True, errors=[]
    )
    if queued:
        response.background = BackgroundTask(after_commit.run)
    return response


@get("/reinitialiser/{token:str}")
async def reset_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    valid = await accounts.reset_token_account(token) is not None
    return page(
        request,
        "pages/auth/reset.html",
        status_code=200 if valid else 410,
        page_title="Nouveau mot de passe",
        token=token,
        valid=valid,
        errors=[],
        password_rules=rules.PASSWORD_RULES_TEXT,
    )


@post("/reinitialiser/{token:str}")
async def reset_submit(
    request: Request[Any, Any, Any], token: FromPath[str], data: Form
) -> Template | Redirect:
    errors = await accounts.reset_password(
        token, data.get("password", ""), data.get("password_confirm", "")
    )
    if errors:
        valid = await accounts.reset_token_account(token) is not None
        return page(
            request,
            "pages/auth/reset.html",
            status_code=400 if valid else 410,
            page_title="Nouveau mot de passe",
            token=token,
            valid=valid,
            errors=errors,
            password_rules=rules.PASSWORD_RULES_TEXT,
        )
    request.clear_session()
    return see_other("/connexion?etat=mot-de-passe-change")


ROUTES = [login_page, login_submit, logout, forgot_page, forgot_submit, reset_page, reset_submit]
