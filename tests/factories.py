"""Building rows for tests, with the few fields each test cares about."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, time

from portal import clock
from portal.domain.accounts import rules
from portal.domain.accounts.passwords import hash_password
from portal.tables import (
    Account,
    AccountFamily,
    Activity,
    ActivityDay,
    Enrollment,
    Family,
    Person,
    RulesDocument,
    Structure,
    Tariff,
    WalletType,
)

PASSWORD = "Parent-Test-2026!"

# argon2 is slow on purpose; one hash per distinct password keeps big fixtures fast.
cached_hash = functools.cache(hash_password)


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
        password_hash=cached_hash(password),
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


async def make_activity(
    structure: Structure,
    name: str = "ALSH 6-12 - Mercredi Journée",
    *,
    capacity: int | None = 24,
    waitlist: int | None = 10,
    start: time = time(8, 30),
    end: time = time(17, 30),
    deadline: str = "days:2@10:00",
    needs_decision: bool = False,
    time_entry: bool = False,
    arrivals: str = "",
    departures: str = "",
    price_cents: int = 1280,
) -> Activity:
    wallet_type = await WalletType.objects().get(WalletType.structure == structure.id)
    assert wallet_type is not None
    activity = Activity(
        structure=structure.id,
        wallet_type=wallet_type.id,
        name=name,
        start_time=start,
        end_time=end,
        capacity=capacity,
        waitlist_capacity=waitlist,
        needs_decision=needs_decision,
        booking_deadline=deadline,
        cancellation_deadline=deadline,
        time_entry=time_entry,
        allowed_arrivals=arrivals,
        allowed_departures=departures,
        billing_unit_minutes=30 if time_entry else None,
    )
    await activity.save()
    for band in ("A", "B", "C"):
        await Tariff(
            activity=activity.id,
            band=band,
            unit_price_cents=price_cents,
            valid_from=date(2020, 1, 1),
        ).save()
    return activity


async def make_days(activity: Activity, *days: date) -> list[ActivityDay]:
    rows = [
        ActivityDay(
            activity=activity.id,
            day=day,
            capacity=activity.capacity,
            waitlist_capacity=activity.waitlist_capacity,
        )
        for day in days
    ]
    for row in rows:
        await row.save()
    return rows


async def enroll(people: list[Person], *activities: Activity) -> None:
    for person in people:
        for activity in activities:
            await Enrollment(person=person.id, activity=activity.id).save()


async def add_file_rules(
    structure: Structure, *, fields: tuple[str, ...] = ("address", "phone")
) -> dict[str, int]:
    """The structure's family-file rules: required fields and the usual document types."""
    from portal.tables import DocumentType, FileSettings

    await FileSettings(structure=structure.id, required_fields=list(fields)).save()
    ids = {}
    for position, (code, name, per_child, when) in enumerate(
        [
            ("caf", "Attestation CAF/quotient familial", False, ""),
            ("assurance", "Assurance extrascolaire", True, ""),
            ("pai", "PAI", True, "pai"),
        ]
    ):
        row = DocumentType(
            structure=structure.id,
            code=code,
            name=name,
            per_child=per_child,
            required=True,
            required_when=when,
            position=position,
        )
        await row.save()
        ids[code] = int(row.id)
    return ids
