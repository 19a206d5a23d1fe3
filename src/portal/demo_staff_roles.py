"""Demo staff with roles (issue 17): a régisseur of the town hall, a direction account.

`gestion` keeps every non-administrator role in both structures (its attachments take the
column default), so that the demo and its tests see every page as before. `direction` reads
the family files without health access (the direction needs no child's condition): the
demo shows the files as such a member sees them, health documents sealed.
"""

from __future__ import annotations

from portal.domain.accounts.passwords import hash_password
from portal.domain.staff.roles import Role, format_roles
from portal.tables import StaffMember, StaffStructure, Structure

# Public demo credentials, shown on the login page in demo mode.
DEMO_STAFF_PASSWORDS = {
    "regie": "Demo-Regie-2026",
    "direction": "Demo-Direction-2026",
}


def password_hashes() -> dict[str, str]:
    """Hashing is slow on purpose: done before the demo takes its write lock."""
    return {login: hash_password(password) for login, password in DEMO_STAFF_PASSWORDS.items()}


async def load(hashes: dict[str, str], mairie_slug: str) -> None:
    """The two accounts, unless their logins are taken; inside the demo's transaction."""
    structures = await Structure.objects().order_by(Structure.id)
    taken = {
        str(r["login"])
        for r in await StaffMember.select(StaffMember.login).where(
            StaffMember.login.is_in(list(DEMO_STAFF_PASSWORDS))
        )
    }
    plan = [
        (
            "regie",
            "Régisseuse CarteVille",
            [s for s in structures if s.slug == mairie_slug],
            {Role.REGISSEUR},
        ),
        ("direction", "Direction des services", structures, {Role.DIRECTION}),
    ]
    for login, name, attached, roles in plan:
        if login in taken:
            continue
        member = StaffMember(login=login, password_hash=hashes[login], display_name=name)
        await member.save()
        for structure in attached:
            await StaffStructure(
                staff=member.id,
                structure=structure.id,
                roles=format_roles(roles),
                health_access=login != "direction",
            ).save()
