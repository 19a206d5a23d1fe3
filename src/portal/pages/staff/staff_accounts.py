"""Staff accounts, for administrators (/gestion/comptes): create, edit, roles, disable.

The administrator role is checked once, by `load_staff` (the routes declare it); the
initial password of a new or reset account is shown on the answer to the POST, once.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.domain.staff import accounts
from portal.domain.staff.roles import (
    ADMINISTRATION,
    ATTACHMENT_ROLES,
    DESCRIPTIONS,
    LABELS,
    Role,
    describe,
)
from portal.domain.staff.service import Actor
from portal.web.forms import MultiForm
from portal.web.render import flash, page, see_other
from portal.web.staff import Member, account_layout, allow

from .common import values

ACCOUNTS_URL = "/gestion/comptes"
ADMIN_ONLY = allow(ADMINISTRATION)


def _form_from(data: dict[str, Any], structure_ids: list[int]) -> accounts.AccountForm:
    return accounts.AccountForm(
        display_name=str(data.get("nom", ""))[: accounts.NAME_MAX + 1],
        is_admin=str(data.get("administrateur", "")) == "1",
        grants=accounts.grants_from_form(values(data, "role"), structure_ids),
    )


async def _render(
    request: Request[Any, Any, Any],
    member: Any,
    template: str,
    *,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    return page(
        request,
        template,
        status_code=status_code,
        layout=await account_layout(request, member),
        page_title=title,
        nav_active="comptes",
        role_labels=LABELS,
        role_descriptions=DESCRIPTIONS,
        attachment_roles=ATTACHMENT_ROLES,
        describe_roles=describe,
        administrator=Role.ADMINISTRATOR,
        **context,
    )


async def _edit_page(
    request: Request[Any, Any, Any],
    member: Any,
    *,
    account: accounts.StaffAccount | None,
    form: accounts.AccountForm | None,
    login: str = "",
    errors: list[str] | None = None,
) -> Template:
    structures = await accounts.all_structures()
    if form is None and account is not None:
        form = accounts.AccountForm(
            account.display_name,
            account.is_admin,
            {a.structure_id: a.roles for a in account.attachments},
        )
    return await _render(
        request,
        member,
        "pages/staff/accounts/edit.html",
        title=f"Compte de {account.display_name}" if account else "Nouveau compte",
        status_code=400 if errors else 200,
        account=account,
        form=form or accounts.AccountForm("", False, {}),
        login=login,
        structures=structures,
        errors=errors or [],
    )


@get(ACCOUNTS_URL, opt=ADMIN_ONLY)
async def accounts_page(request: Request[Any, Any, Any], member: Member) -> Template:
    return await _render(
        request,
        member,
        "pages/staff/accounts/list.html",
        title="Comptes du personnel",
        accounts=await accounts.list_accounts(),
    )


@get(f"{ACCOUNTS_URL}/nouveau", opt=ADMIN_ONLY)
async def new_account_page(request: Request[Any, Any, Any], member: Member) -> Template:
    return await _edit_page(request, member, account=None, form=None)


@post(f"{ACCOUNTS_URL}/nouveau", opt=ADMIN_ONLY)
async def create_account(
    request: Request[Any, Any, Any], member: Member, data: MultiForm
) -> Template:
    structures = [int(s.id) for s in await accounts.all_structures()]
    form = _form_from(data, structures)
    login = str(data.get("identifiant", ""))[: accounts.LOGIN_MAX + 1]
    try:
        credentials = await accounts.create_account(Actor.of(member), login, form)
    except accounts.AccountError as exc:
        return await _edit_page(
            request, member, account=None, form=form, login=login, errors=[str(exc)]
        )
    return await _render(
        request,
        member,
        "pages/staff/accounts/credentials.html",
        title="Compte créé",
        credentials=credentials,
        created=True,
    )


@get(f"{ACCOUNTS_URL}/{{staff_id:int}}", opt=ADMIN_ONLY)
async def account_page(
    request: Request[Any, Any, Any], member: Member, staff_id: FromPath[int]
) -> Template:
    account = await accounts.get_account(staff_id)
    return await _edit_page(request, member, account=account, form=None)


@post(f"{ACCOUNTS_URL}/{{staff_id:int}}", opt=ADMIN_ONLY)
async def update_account(
    request: Request[Any, Any, Any], member: Member, staff_id: FromPath[int], data: MultiForm
) -> Template | Redirect:
    account = await accounts.get_account(staff_id)
    structures = [int(s.id) for s in await accounts.all_structures()]
    form = _form_from(data, structures)
    try:
        await accounts.update_account(Actor.of(member), staff_id, form)
    except accounts.AccountError as exc:
        return await _edit_page(request, member, account=account, form=form, errors=[str(exc)])
    flash(request, f"Le compte de {form.display_name.strip()} est enregistré.")
    return see_other(f"{ACCOUNTS_URL}/{staff_id}")


async def _set_disabled(
    request: Request[Any, Any, Any], member: Any, staff_id: int, disabled: bool
) -> Redirect:
    account = await accounts.get_account(staff_id)
    try:
        await accounts.set_disabled(Actor.of(member), staff_id, disabled)
    except accounts.AccountError as exc:
        flash(request, str(exc), "error")
        return see_other(f"{ACCOUNTS_URL}/{staff_id}")
    flash(
        request,
        f"Le compte de {account.display_name} est désactivé : ses sessions sont fermées."
        if disabled
        else f"Le compte de {account.display_name} est réactivé.",
    )
    return see_other(f"{ACCOUNTS_URL}/{staff_id}")


@post(f"{ACCOUNTS_URL}/{{staff_id:int}}/desactiver", opt=ADMIN_ONLY)
async def disable_account(
    request: Request[Any, Any, Any], member: Member, staff_id: FromPath[int]
) -> Redirect:
    return await _set_disabled(request, member, staff_id, True)


@post(f"{ACCOUNTS_URL}/{{staff_id:int}}/reactiver", opt=ADMIN_ONLY)
async def enable_account(
    request: Request[Any, Any, Any], member: Member, staff_id: FromPath[int]
) -> Redirect:
    return await _set_disabled(request, member, staff_id, False)


@post(f"{ACCOUNTS_URL}/{{staff_id:int}}/mot-de-passe", opt=ADMIN_ONLY)
async def reset_password(
    request: Request[Any, Any, Any], member: Member, staff_id: FromPath[int]
) -> Template:
    credentials = await accounts.reset_password(Actor.of(member), staff_id)
    return await _render(
        request,
        member,
        "pages/staff/accounts/credentials.html",
        title="Nouveau mot de passe initial",
        credentials=credentials,
        created=False,
    )


ROUTES = [
    accounts_page,
    new_account_page,
    create_account,
    account_page,
    update_account,
    disable_account,
    enable_account,
    reset_password,
]
