"""Staff accounts managed by administrators: create, edit, attach with roles, disable.

Only administrators reach these use cases (the pages check it); every change is audited
in its own transaction. An initial password is shown once and must be replaced at the
next login; disabling an account ends its sessions at their next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from portal import clock
from portal.db import write_transaction
from portal.domain.accounts.credentials import initial_password
from portal.domain.accounts.passwords import hash_password_async
from portal.domain.staff import audit
from portal.domain.staff.roles import (
    ATTACHMENT_ROLES,
    Role,
    effective_roles,
    format_roles,
    parse_roles,
)
from portal.domain.staff.service import Actor, NotFound
from portal.tables import StaffMember, StaffStructure, StaffTotp, Structure

LOGIN_MAX = 150
NAME_MAX = 200


class AccountError(ValueError):
    """A staff account cannot be changed as asked (the message is for the page)."""


@dataclass(frozen=True)
class Attachment:
    structure_id: int
    structure_name: str
    roles: frozenset[Role]


@dataclass(frozen=True)
class StaffAccount:
    id: int
    login: str
    display_name: str
    is_admin: bool
    disabled_at: datetime | None
    second_factor: bool
    attachments: tuple[Attachment, ...]

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    def roles_in(self, structure_id: int) -> frozenset[Role]:
        for attachment in self.attachments:
            if attachment.structure_id == structure_id:
                return attachment.roles
        return frozenset()


@dataclass(frozen=True)
class Credentials:
    """Shown once, on the page that answers the creation or the reset."""

    staff_id: int
    login: str
    display_name: str
    password: str


@dataclass(frozen=True)
class AccountForm:
    """What the edit form says: name, administrator flag, roles per structure id."""

    display_name: str
    is_admin: bool
    grants: Mapping[int, frozenset[Role]]


# --- reading ---------------------------------------------------------------------------


async def roles_in(member: StaffMember, structure_id: int) -> frozenset[Role]:
    """The roles the member holds in that structure (administrators: every role)."""
    if member.is_admin:
        return effective_roles(True, frozenset())
    row = (
        await StaffStructure.select(StaffStructure.roles)
        .where((StaffStructure.staff == member.id) & (StaffStructure.structure == structure_id))
        .first()
    )
    return parse_roles(row["roles"]) if row else frozenset()


async def all_structures() -> list[Structure]:
    return await Structure.objects().order_by(Structure.name)


async def list_accounts() -> list[StaffAccount]:
    """Every staff account, enabled first then by name."""
    members = await StaffMember.objects().order_by(StaffMember.display_name)
    accounts = await _accounts(members)
    return sorted(accounts, key=lambda a: (a.disabled, a.display_name.lower(), a.login))


async def get_account(staff_id: int) -> StaffAccount:
    member = await StaffMember.objects().where(StaffMember.id == staff_id).first()
    if member is None:
        raise NotFound(f"compte du personnel {staff_id}")
    [account] = await _accounts([member])
    return account


async def _accounts(members: list[StaffMember]) -> list[StaffAccount]:
    if not members:
        return []
    ids = [int(m.id) for m in members]
    names = {int(s.id): str(s.name) for s in await Structure.objects()}
    links = await StaffStructure.select(
        StaffStructure.staff, StaffStructure.structure, StaffStructure.roles
    ).where(StaffStructure.staff.is_in(ids))
    enrolled = {
        int(r["staff"])
        for r in await StaffTotp.select(StaffTotp.staff).where(
            StaffTotp.staff.is_in(ids) & StaffTotp.confirmed_at.is_not_null()
        )
    }
    by_member: dict[int, list[Attachment]] = {i: [] for i in ids}
    for link in links:
        sid = int(link["structure"])
        by_member[int(link["staff"])].append(
            Attachment(sid, names.get(sid, f"n° {sid}"), parse_roles(link["roles"]))
        )
    return [
        StaffAccount(
            id=int(m.id),
            login=str(m.login),
            display_name=str(m.display_name),
            is_admin=bool(m.is_admin),
            disabled_at=m.disabled_at,
            second_factor=int(m.id) in enrolled,
            attachments=tuple(sorted(by_member[int(m.id)], key=lambda a: a.structure_name)),
        )
        for m in members
    ]


# --- writing ---------------------------------------------------------------------------


def _check_form(form: AccountForm, known_structures: set[int]) -> list[str]:
    problems = []
    if not form.display_name.strip():
        problems.append("Indiquez le nom de la personne.")
    if len(form.display_name) > NAME_MAX:
        problems.append(f"Le nom ne doit pas dépasser {NAME_MAX} caractères.")
    unknown = set(form.grants) - known_structures
    if unknown:
        problems.append("Une des structures choisies n'existe pas.")
    if not form.is_admin and not any(form.grants.values()):
        problems.append(
            "Choisissez au moins un rôle dans une structure (ou le rôle administrateur)."
        )
    return problems


def _snapshot(account: StaffAccount) -> dict[str, object]:
    return {
        "display_name": account.display_name,
        "is_admin": account.is_admin,
        "roles": {a.structure_name: format_roles(a.roles) for a in account.attachments if a.roles},
    }


async def _replace_attachments(staff_id: int, grants: Mapping[int, frozenset[Role]]) -> None:
    await StaffStructure.delete().where(StaffStructure.staff == staff_id)
    rows = [
        StaffStructure(staff=staff_id, structure=sid, roles=format_roles(roles))
        for sid, roles in sorted(grants.items())
        if roles
    ]
    if rows:
        await StaffStructure.insert(*rows)


async def create_account(actor: Actor, login: str, form: AccountForm) -> Credentials:
    """A new staff account with an initial password, shown once and to be replaced."""
    login = login.strip()
    problems = []
    if not login:
        problems.append("Indiquez l'identifiant de connexion.")
    elif len(login) > LOGIN_MAX or any(c.isspace() for c in login):
        problems.append(
            f"L'identifiant ne doit pas contenir d'espace ni dépasser {LOGIN_MAX} caractères."
        )
    known = {int(s.id) for s in await all_structures()}
    problems += _check_form(form, known)
    if problems:
        raise AccountError(" ".join(problems))
    password = initial_password()
    password_hash = await hash_password_async(password)
    async with write_transaction():
        if await StaffMember.exists().where(StaffMember.login == login):
            raise AccountError(f"L'identifiant « {login} » est déjà pris.")
        member = StaffMember(
            login=login,
            password_hash=password_hash,
            display_name=form.display_name.strip(),
            is_admin=form.is_admin,
            must_change_password=True,
            created_at=clock.utcnow(),
        )
        await member.save()
        await _replace_attachments(int(member.id), form.grants)
        account = await get_account(int(member.id))
        await audit.record(
            actor,
            "staff.create",
            structure_id=None,
            table="staff_member",
            target_id=int(member.id),
            after={"login": login, **_snapshot(account)},
        )
    return Credentials(int(member.id), login, form.display_name.strip(), password)


async def update_account(actor: Actor, staff_id: int, form: AccountForm) -> None:
    """Name, administrator flag and roles per structure; nobody demotes themselves."""
    known = {int(s.id) for s in await all_structures()}
    problems = _check_form(form, known)
    if staff_id == actor.staff_id and not form.is_admin:
        problems.append("Vous ne pouvez pas retirer votre propre rôle d'administrateur.")
    if problems:
        raise AccountError(" ".join(problems))
    async with write_transaction():
        before = await get_account(staff_id)
        await StaffMember.update(
            {
                StaffMember.display_name: form.display_name.strip(),
                StaffMember.is_admin: form.is_admin,
            }
        ).where(StaffMember.id == staff_id)
        await _replace_attachments(staff_id, form.grants)
        after = await get_account(staff_id)
        old, new = audit.changed(_snapshot(before), _snapshot(after))
        if old or new:
            await audit.record(
                actor,
                "staff.update",
                structure_id=None,
                table="staff_member",
                target_id=staff_id,
                before=old,
                after=new,
            )


async def set_disabled(actor: Actor, staff_id: int, disabled: bool) -> None:
    """Disable (its sessions end at their next request) or enable an account again."""
    if disabled and staff_id == actor.staff_id:
        raise AccountError("Vous ne pouvez pas désactiver votre propre compte.")
    async with write_transaction():
        account = await get_account(staff_id)
        if account.disabled == disabled:
            return
        values: dict[object, object] = {
            StaffMember.disabled_at: clock.utcnow() if disabled else None,
        }
        if disabled:
            values[StaffMember.session_epoch] = StaffMember.session_epoch + 1
        await StaffMember.update(values).where(StaffMember.id == staff_id)  # type: ignore[arg-type]
        await audit.record(
            actor,
            "staff.disable" if disabled else "staff.enable",
            structure_id=None,
            table="staff_member",
            target_id=staff_id,
            before={"disabled": account.disabled},
            after={"disabled": disabled},
        )


async def reset_password(actor: Actor, staff_id: int) -> Credentials:
    """A new initial password (shown once); the account's open sessions end."""
    password = initial_password()
    password_hash = await hash_password_async(password)
    async with write_transaction():
        account = await get_account(staff_id)
        await StaffMember.update(
            {
                StaffMember.password_hash: password_hash,
                StaffMember.must_change_password: True,
                StaffMember.session_epoch: StaffMember.session_epoch + 1,
            }
        ).where(StaffMember.id == staff_id)
        await audit.record(
            actor,
            "staff.reset",
            structure_id=None,
            table="staff_member",
            target_id=staff_id,
            after={"login": account.login},
        )
    return Credentials(staff_id, account.login, account.display_name, password)


def grants_from_form(checked: list[str], structure_ids: list[int]) -> dict[int, frozenset[Role]]:
    """Checkbox values "<structure id>:<role>" into roles per structure (unknown ignored)."""
    known_roles = {role.value: role for role in ATTACHMENT_ROLES}
    grants: dict[int, set[Role]] = {sid: set() for sid in structure_ids}
    for value in checked:
        sid_text, _, role_text = value.partition(":")
        if not sid_text.isdigit() or role_text not in known_roles:
            continue
        sid = int(sid_text)
        if sid in grants:
            grants[sid].add(known_roles[role_text])
    return {sid: frozenset(roles) for sid, roles in grants.items()}
