"""Staff roles of a town hall, and what each one may do (pure rules).

Roles are granted per structure attachment: the same person may be an agent of the
canteen service of one town and the régisseur of another. An administrator holds every
role in every structure (and alone manages staff accounts and /admin/).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"  # bookings, attendance, news, families, activities
    REGISSEUR = "regisseur"  # payments, reminders, direct debits, money exports
    DIRECTION = "direction"  # reads everything, statistics
    ADMINISTRATOR = "administrateur"  # staff accounts, every structure, /admin/


LABELS: dict[Role, str] = {
    Role.AGENT: "Agent",
    Role.REGISSEUR: "Régisseur",
    Role.DIRECTION: "Direction",
    Role.ADMINISTRATOR: "Administrateur",
}

DESCRIPTIONS: dict[Role, str] = {
    Role.AGENT: "réservations, présences, actualités, familles et activités",
    Role.REGISSEUR: "règlements, relances, prélèvements et exports financiers",
    Role.DIRECTION: "consultation de tout, statistiques",
    Role.ADMINISTRATOR: "comptes du personnel, toutes les structures, tables brutes",
}

# The roles a structure attachment can carry (administrator is account-wide).
ATTACHMENT_ROLES: tuple[Role, ...] = (Role.AGENT, Role.REGISSEUR, Role.DIRECTION)

# What an attachment made before roles existed holds (the column's default): everything
# it could do then, so that an upgrade changes nobody's access.
LEGACY_ROLES = ",".join(role.value for role in ATTACHMENT_ROLES)

# Who may do what: each back-office route declares one of these sets.
ANY_STAFF: frozenset[Role] = frozenset(ATTACHMENT_ROLES)
OPERATIONS: frozenset[Role] = frozenset({Role.AGENT})
OPERATIONS_READ: frozenset[Role] = frozenset({Role.AGENT, Role.DIRECTION})
MONEY: frozenset[Role] = frozenset({Role.REGISSEUR})
MONEY_READ: frozenset[Role] = frozenset({Role.REGISSEUR, Role.DIRECTION})
ADMINISTRATION: frozenset[Role] = frozenset({Role.ADMINISTRATOR})

DENIED = "Votre rôle ne permet pas cette action ou cette page. Adressez-vous à un administrateur."


def parse_roles(text: str | None) -> frozenset[Role]:
    """The roles stored on an attachment ("agent,regisseur"); unknown words are ignored."""
    known = {role.value: role for role in ATTACHMENT_ROLES}
    return frozenset(known[word] for word in (text or "").split(",") if word.strip() in known)


def format_roles(roles: Iterable[Role]) -> str:
    """The stored form, in a fixed order so that equal sets compare equal as text."""
    chosen = set(roles)
    return ",".join(role.value for role in ATTACHMENT_ROLES if role in chosen)


def effective_roles(is_admin: bool, attachment: frozenset[Role]) -> frozenset[Role]:
    """Every role for an administrator, else the attachment's."""
    return frozenset(Role) if is_admin else attachment


def allowed(held: frozenset[Role], needed: frozenset[Role]) -> bool:
    """One of the needed roles is enough; administrators pass everywhere."""
    return Role.ADMINISTRATOR in held or bool(held & needed)


def describe(roles: Iterable[Role]) -> str:
    """« Agent, Régisseur » for a list of accounts."""
    chosen = set(roles)
    words = [LABELS[role] for role in Role if role in chosen]
    return ", ".join(words) if words else "aucun rôle"
