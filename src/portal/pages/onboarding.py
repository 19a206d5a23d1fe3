"""First login: new password, RGPD and CGU, then the rules document for each child."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from portal.domain.accounts import rules
from portal.domain.accounts import service as accounts
from portal.web.context import Parent
from portal.web.forms import Form
from portal.web.render import flash, page, see_other

ONBOARDING = {"onboarding": True}

STEPS = [
    ("password", "Nouveau mot de passe"),
    ("terms", "RGPD et conditions d'utilisation"),
    ("rules", "Règlement intérieur"),
]


def _steps(current: str) -> list[dict[str, Any]]:
    order = [key for key, _ in STEPS]
    return [
        {
            "key": key,
            "label": label,
            "current": key == current,
            "done": order.index(key) < order.index(current),
        }
        for key, label in STEPS
    ]


def _next_url(account_step: str | None) -> str:
    if account_step == "password":
        return "/premiere-connexion/mot-de-passe"
    if account_step == "terms":
        return "/premiere-connexion/conditions"
    return "/premiere-connexion/reglement"


@get("/premiere-connexion/mot-de-passe", opt=ONBOARDING)
async def password_page(request: Request[Any, Any, Any], parent: Parent) -> Template | Redirect:
    if accounts.onboarding_step(parent.account) != "password":
        return see_other(_next_url(accounts.onboarding_step(parent.account)))
    return page(
        request,
        "pages/onboarding/password.html",
        parent,
        page_title="Première connexion",
        steps=_steps("password"),
        errors=[],
        password_rules=rules.PASSWORD_RULES_TEXT,
    )


@post("/premiere-connexion/mot-de-passe", opt=ONBOARDING)
async def password_submit(
    request: Request[Any, Any, Any], parent: Parent, data: Form
) -> Template | Redirect:
    if accounts.onboarding_step(parent.account) != "password":
        return see_other(_next_url(accounts.onboarding_step(parent.account)))
    errors = await accounts.set_new_password(
        parent.account_id, data.get("password", ""), data.get("password_confirm", "")
    )
    if errors:
        return page(
            request,
            "pages/onboarding/password.html",
            parent,
            status_code=400,
            page_title="Première connexion",
            steps=_steps("password"),
            errors=errors,
            password_rules=rules.PASSWORD_RULES_TEXT,
        )
    flash(request, "Le mot de passe a bien été enregistré.")
    return see_other("/premiere-connexion/conditions")


@get("/premiere-connexion/conditions", opt=ONBOARDING)
async def terms_page(request: Request[Any, Any, Any], parent: Parent) -> Template | Redirect:
    step = accounts.onboarding_step(parent.account)
    if step != "terms":
        return see_other(_next_url(step))
    return page(
        request,
        "pages/onboarding/terms.html",
        parent,
        page_title="Première connexion",
        steps=_steps("terms"),
        errors=[],
    )


@post("/premiere-connexion/conditions", opt=ONBOARDING)
async def terms_submit(
    request: Request[Any, Any, Any], parent: Parent, data: Form
) -> Template | Redirect:
    step = accounts.onboarding_step(parent.account)
    if step != "terms":
        return see_other(_next_url(step))
    errors = await accounts.accept_terms(
        parent.account_id, data.get("accept_rgpd") == "on", data.get("accept_cgu") == "on"
    )
    if errors:
        return page(
            request,
            "pages/onboarding/terms.html",
            parent,
            status_code=400,
            page_title="Première connexion",
            steps=_steps("terms"),
            errors=errors,
        )
    return see_other("/premiere-connexion/reglement")


@get("/premiere-connexion/reglement")
async def rules_page(request: Request[Any, Any, Any], parent: Parent) -> Template | Redirect:
    pending = await accounts.pending_signatures(parent.family_id)
    if not pending:
        return see_other("/")
    return page(
        request,
        "pages/onboarding/rules.html",
        parent,
        page_title="Règlement intérieur",
        steps=_steps("rules"),
        pending=pending,
        errors=[],
        form={},
    )


@post("/premiere-connexion/reglement")
async def rules_submit(
    request: Request[Any, Any, Any], parent: Parent, data: Form
) -> Template | Redirect:
    try:
        person_id = int(data.get("person_id", ""))
        document_id = int(data.get("document_id", ""))
    except ValueError:
        person_id = document_id = 0
    try:
        errors = await accounts.sign_rules(
            parent.account_id,
            parent.family_id,
            person_id,
            document_id,
            data.get("signer_name", ""),
            data.get("place", ""),
            data.get("acknowledged") == "on",
        )
    except accounts.NotFound:
        errors = ["Cet enfant n'appartient pas à votre famille."]
    if errors:
        pending = await accounts.pending_signatures(parent.family_id)
        return page(
            request,
            "pages/onboarding/rules.html",
            parent,
            status_code=400,
            page_title="Règlement intérieur",
            steps=_steps("rules"),
            pending=pending,
            errors=errors,
            form={**data, "person_id": person_id},
        )
    flash(request, "Règlement signé, merci.")
    remaining = await accounts.pending_signatures(parent.family_id)
    return see_other("/premiere-connexion/reglement" if remaining else "/")


ROUTES = [password_page, password_submit, terms_page, terms_submit, rules_page, rules_submit]
