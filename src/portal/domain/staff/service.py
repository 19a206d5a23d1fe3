"""Staff accounts (separate from parents): login, creation, the structures they serve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from portal.db import write_transaction
from portal.domain import errors
from portal.domain.accounts import rules
from portal.domain.accounts.passwords import (
    hash_password_async,
    needs_rehash,
    verify_password_async,
)
from portal.domain.accounts.service import LOGIN_PASSWORD_MAX
from portal.domain.staff.roles import ATTACHMENT_ROLES, LEGACY_ROLES, Role, format_roles
from portal.tables import StaffMember, StaffStructure, Structure


class StaffError(ValueError):
    """A staff account cannot be created or used as asked."""


@dataclass(frozen=True)
class StaffLogin:
    staff_id: int | None
    error: str | None = None
    session_epoch: int = 0


async def authenticate_staff(login: str, password: str) -> StaffLogin:
    """Check a staff login and password (throttling is the caller's); same cost if unknown."""
    login = login.strip()
    row = await StaffMember.objects().where(StaffMember.login == login).first() if login else None
    too_long = len(password) > LOGIN_PASSWORD_MAX
    stored = row.password_hash if row is not None and not too_long else None
    ok = await verify_password_async(stored, password[:LOGIN_PASSWORD_MAX])
    if row is None or not ok:
        return StaffLogin(None, "Identifiant ou mot de passe incorrect.")
    if row.disabled_at is not None:
        # Said only to whoever knows the password: it reveals nothing to a guesser.
        return StaffLogin(None, "Ce compte est désactivé. Adressez-vous à un administrateur.")
    values: dict[Any, Any] = {StaffMember.failed_logins: 0, StaffMember.locked_until: None}
    if needs_rehash(row.password_hash):
        values[StaffMember.password_hash] = await hash_password_async(password)
    await StaffMember.update(values).where(StaffMember.id == row.id)
    return StaffLogin(row.id, session_epoch=int(row.session_epoch))


async def create_staff(
    login: str,
    password: str,
    display_name: str,
    *,
    is_admin: bool = False,
    structure_slugs: list[str] | None = None,
    roles: Sequence[Role] = (),
    health_access: bool = True,
) -> StaffMember:
    """A staff account, attached to the structures named by their slugs with ``roles`` in
    each (all of them when none are given, as before roles existed)."""
    login = login.strip()
    if not login:
        raise StaffError("L'identifiant est obligatoire.")
    errors = rules.password_errors(password, password, login)
    if errors:
        raise StaffError(" ".join(errors))
    if await StaffMember.exists().where(StaffMember.login == login):
        raise StaffError(f"L'identifiant « {login} » existe déjà.")
    structures = []
    for slug in structure_slugs or []:
        structure = await Structure.objects().where(Structure.slug == slug).first()
        if structure is None:
            raise StaffError(f"Structure inconnue : « {slug} ».")
        structures.append(structure)
    unknown = [role for role in roles if role not in ATTACHMENT_ROLES]
    if unknown:
        raise StaffError(f"Rôle impossible dans une structure : « {unknown[0]} ».")
    if roles and not structures:
        raise StaffError("Un rôle se donne dans une structure : ajoutez --structure.")
    member = StaffMember(
        login=login,
        password_hash=await hash_password_async(password),
        display_name=display_name.strip() or login,
        is_admin=is_admin,
    )
    attachment_roles = format_roles(roles) if roles else LEGACY_ROLES
    async with write_transaction():
        await member.save()
        for structure in structures:
            await StaffStructure(
                staff=member.id, structure=structure.id, roles=attachment_roles,
                health_access=health_access,
            ).save()  # fmt: skip
    return member


async def staff_structures(staff_id: int) -> list[Structure]:
    member = await StaffMember.objects().where(StaffMember.id == staff_id).first()
    if member is None:
        return []
    if member.is_admin:
        return await Structure.objects().order_by(Structure.name)
    ids = [
        r["structure"]
        for r in await StaffStructure.select(StaffStructure.structure).where(
            StaffStructure.staff == staff_id
        )
    ]
    if not ids:
        return []
    return await Structure.objects().where(Structure.id.is_in(ids)).order_by(Structure.name)


# --- scope: which structures a staff member serves ------------------------------------


class NotFound(errors.NotFound):
    """Not there, or not in the staff member's structures: the page answers 404."""


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit log."""

    staff_id: int
    login: str
    is_admin: bool

    @classmethod
    def of(cls, member: StaffMember) -> Actor:
        return cls(int(member.id), str(member.login), bool(member.is_admin))


async def structure_ids(member: StaffMember) -> list[int]:
    """Ids of the structures the member may manage, oldest first (administrators: all)."""
    if member.is_admin:
        rows = await Structure.select(Structure.id).order_by(Structure.id)
    else:
        rows = await (
            StaffStructure.select(StaffStructure.structure.as_alias("id"))
            .where(StaffStructure.staff == member.id)
            .order_by(StaffStructure.structure)
        )
    return [int(r["id"]) for r in rows]


async def managed_structures(member: StaffMember) -> list[Structure]:
    ids = await structure_ids(member)
    if not ids:
        return []
    rows = await Structure.objects().where(Structure.id.is_in(ids))
    return sorted(rows, key=lambda s: ids.index(int(s.id)))


async def structure_for(member: StaffMember, structure_id: int) -> Structure:
    """The structure if the member manages it; NotFound otherwise (whatever id is typed)."""
    if member.is_admin:
        found = await Structure.objects().get(Structure.id == structure_id)
    elif await StaffStructure.exists().where(
        (StaffStructure.staff == member.id) & (StaffStructure.structure == structure_id)
    ):
        found = await Structure.objects().get(Structure.id == structure_id)
    else:
        found = None
    if found is None:
        raise NotFound(f"structure {structure_id}")
    return found


# --- own account ----------------------------------------------------------------------


async def change_staff_password(
    staff_id: int, current: str, password: str, confirmation: str
) -> list[str]:
    """Change a staff member's own password; every other session of theirs ends."""
    member = await StaffMember.objects().where(StaffMember.id == staff_id).first()
    if member is None:
        raise NotFound(staff_id)
    if not await verify_password_async(member.password_hash, current):
        return ["Le mot de passe actuel est incorrect."]
    errors = await anyio.to_thread.run_sync(
        lambda: rules.password_errors(password, confirmation, member.login, [member.display_name])
    )
    if await verify_password_async(member.password_hash, password):
        errors.append("Le nouveau mot de passe doit être différent de l'ancien.")
    if errors:
        return errors
    await StaffMember.update(
        {
            StaffMember.password_hash: await hash_password_async(password),
            StaffMember.session_epoch: StaffMember.session_epoch + 1,
            StaffMember.must_change_password: False,
        }
    ).where(StaffMember.id == staff_id)
    return []


async def staff_session_epoch(staff_id: int) -> int:
    member = await StaffMember.objects().where(StaffMember.id == staff_id).first()
    if member is None:
        raise NotFound(staff_id)
    return int(member.session_epoch)
