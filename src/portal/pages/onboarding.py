"""First login: new password, RGPD and CGU, then the rules document for each child."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from portal import clock
from portal.domain.accounts import rules
from portal.domain.accounts import service as accounts
from portal.web.context import Parent
from portal.web.forms import Form, int_or_none
from portal.web.render import flash, page, see_other
from portal.web.sessions import keep_after_password_change

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
    epoch = await accounts.session_epoch(parent.account_id)
    await keep_after_password_change(request, "parent", parent.account_id, epoch)
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


def _rules_context(
    parent: Any, sheets: list[accounts.RulesSheet], wanted: int | None
) -> dict[str, Any]:
    """The child whose fiche is shown (the one asked for, else the first unsigned one) and
    the others, each with its state, for "Accéder à la fiche"."""
    tz = parent.family.structure_timezone
    current = next((s for s in sheets if s.person_id == wanted), None)
    current = current or next((s for s in sheets if not s.signed), sheets[0])
    return {
        "current": current,
        "others": [s for s in sheets if s.person_id != current.person_id],
        "pending_count": sum(1 for s in sheets if not s.signed),
        "signed_moment": rules.signature_moment(current.signed_at, tz)
        if current.signed_at
        else None,
        # Shown before signing: the moment recorded is the one of the click on "Signer".
        "now_moment": rules.signature_moment(clock.utcnow(), tz),
        "moment_of": lambda sheet: rules.signature_moment(sheet.signed_at, tz),
    }


@get("/premiere-connexion/reglement")
async def rules_page(
    request: Request[Any, Any, Any], parent: Parent, enfant: FromQuery[str | None] = None
) -> Template | Redirect:
    sheets = await accounts.rules_sheets(parent.family_id)
    if not sheets:
        return see_other("/")
    return page(
        request,
        "pages/onboarding/rules.html",
        parent,
        page_title="Règlement intérieur",
        steps=_steps("rules"),
        errors=[],
        form={},
        **_rules_context(parent, sheets, int_or_none(enfant)),
    )


@post("/premiere-connexion/reglement")
async def rules_submit(
    request: Request[Any, Any, Any], parent: Parent, data: Form
) -> Template | Redirect:
    person_id = int_or_none(data.get("person_id")) or 0
    document_id = int_or_none(data.get("document_id")) or 0
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
    sheets = await accounts.rules_sheets(parent.family_id)
    if not sheets:
        return see_other("/")
    if errors:
        return page(
            request,
            "pages/onboarding/rules.html",
            parent,
            status_code=400,
            page_title="Règlement intérieur",
            steps=_steps("rules"),
            errors=errors,
            form={**data, "person_id": person_id},
            **_rules_context(parent, sheets, person_id),
        )
    signed = next((s for s in sheets if s.person_id == person_id and s.signed_at), None)
    if signed is not None and signed.signed_at is not None:
        moment = rules.signature_moment(signed.signed_at, parent.family.structure_timezone)
        flash(request, f"Règlement signé pour {signed.first_name} le {moment}, merci.")
    remaining = [s for s in sheets if not s.signed]
    if remaining:
        return see_other(f"/premiere-connexion/reglement?enfant={remaining[0].person_id}")
    return see_other("/")


ROUTES = [password_page, password_submit, terms_page, terms_submit, rules_page, rules_submit]
