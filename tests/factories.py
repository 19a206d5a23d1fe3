"""Building rows for tests, with the few fields each test cares about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal import clock
from portal.domain.accounts import rules
from portal.domain.accounts.passwords import hash_password
from portal.tables import (
    Account,
    AccountFamily,
    Family,
    Person,
    RulesDocument,
    Structure,
    WalletType,
)

PASSWORD = "Parent-Test-2026!"


@dataclass
class FamilySetup:
    structure: Structure
    family: Family
    account: Account
    people: list[Person]


async def make_structure(name: str = "Mairie de Testville", slug: str | None = None) -> Structure:
    structure = Structure(name=name, slug=slug or name.lower().replace(" ", "-"))
    await structure.save()
    await WalletType(structure=structure.id, name="Services Scolaires et ALSH").save()
    return structure


async def make_family(
    *,
    login: str = "famille",
    structure: Structure | None = None,
    children: tuple[str, ...] = ("Paolo", "Amalia"),
    onboarded: bool = True,
    emails: str = "parent@example.fr",
    password: str = PASSWORD,
    name: str = "DUPONT Jean-Paul",
) -> FamilySetup:
    structure = structure or await make_structure()
    now = clock.utcnow()
    account = Account(
        login=login,
        password_hash=hash_password(password),
        display_name=name,
        emails=emails,
        must_change_password=not onboarded,
        rgpd_version=rules.RGPD_VERSION if onboarded else None,
        rgpd_accepted_at=now if onboarded else None,
        cgu_version=rules.CGU_VERSION if onboarded else None,
        cgu_accepted_at=now if onboarded else None,
    )
    await account.save()
    family = Family(structure=structure.id, name=name)
    await family.save()
    await AccountFamily(account=account.id, family=family.id).save()
    people = []
    for first_name in children:
        person = Person(
            family=family.id,
            first_name=first_name,
            last_name=name.split()[0],
            birth_date=date(2019, 5, 4),
        )
        await person.save()
        people.append(person)
    return FamilySetup(structure, family, account, people)


async def add_rules_document(structure: Structure, version: int = 1) -> RulesDocument:
    document = RulesDocument(
        structure=structure.id,
        version=version,
        title="Règlement intérieur",
        body="Article 1.\n\nArticle 2.",
        in_force_from=clock.utcnow(),
    )
    await document.save()
    return document
