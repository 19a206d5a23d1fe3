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


# --- scope: which structures a staff member serves ------------------------------------


class NotFound(LookupError):
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
