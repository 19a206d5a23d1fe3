"""Staff accounts (separate from parents): login, creation, the structures they serve."""

from __future__ import annotations

from dataclasses import dataclass

from portal import clock
from portal.domain.accounts import rules
from portal.domain.accounts.passwords import hash_password, verify_password
from portal.tables import StaffMember, StaffStructure, Structure


class StaffError(ValueError):
    """A staff account cannot be created or used as asked."""


@dataclass(frozen=True)
class StaffLogin:
    staff_id: int | None
    error: str | None = None


async def authenticate_staff(login: str, password: str, policy: rules.LockoutPolicy) -> StaffLogin:
    now = clock.utcnow()
    row = await StaffMember.objects().where(StaffMember.login == login.strip()).first()
    if row is None:
        verify_password(None, password)
        return StaffLogin(None, "Identifiant ou mot de passe incorrect.")
    if rules.is_locked(row.locked_until, now):
        assert row.locked_until is not None
        return StaffLogin(
            None,
            "Trop d'essais infructueux : compte verrouillé pendant encore "
            f"{rules.minutes_left(row.locked_until, now)} minute(s).",
        )
    if not verify_password(row.password_hash, password):
        failures, locked_until = policy.after_failure(row.failed_logins, now)
        await StaffMember.update(
            {StaffMember.failed_logins: failures, StaffMember.locked_until: locked_until}
        ).where(StaffMember.id == row.id)
        return StaffLogin(None, "Identifiant ou mot de passe incorrect.")
    await StaffMember.update({StaffMember.failed_logins: 0, StaffMember.locked_until: None}).where(
        StaffMember.id == row.id
    )
    return StaffLogin(row.id)


async def create_staff(
    login: str,
    password: str,
    display_name: str,
    *,
    is_admin: bool = False,
    structure_slugs: list[str] | None = None,
) -> StaffMember:
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
    member = StaffMember(
        login=login,
        password_hash=hash_password(password),
        display_name=display_name.strip() or login,
        is_admin=is_admin,
    )
    await member.save()
    for structure in structures:
        await StaffStructure(staff=member.id, structure=structure.id).save()
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
