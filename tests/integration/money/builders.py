"""Rows for the money tests: a structure with a canteen, tariffs, a family and its days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from portal import clock
from portal.tables import (
    Activity,
    ActivityDay,
    Family,
    Person,
    Reservation,
    Structure,
    Tariff,
    Wallet,
    WalletType,
)
from tests.factories import FamilySetup, make_family

TZ = "Europe/Paris"


def today() -> date:
    return clock.local_today(TZ)


@dataclass
class MoneySetup:
    structure: Structure
    wallet_type: WalletType
    activity: Activity
    family: FamilySetup
    wallet_id: int
    days: dict[date, int] = field(default_factory=dict)

    @property
    def family_id(self) -> int:
        return int(self.family.family.id)

    @property
    def person_id(self) -> int:
        return int(self.family.people[0].id)

    async def day(self, day: date, activity: Activity | None = None) -> int:
        activity = activity or self.activity
        key = day if activity is self.activity else day + timedelta(days=100_000)
        if key not in self.days:
            row = ActivityDay(activity=activity.id, day=day, capacity=None, waitlist_capacity=None)
            await row.save()
            self.days[key] = int(row.id)
        return self.days[key]

    async def reserve(
        self,
        day: date,
        status: str = "accepted",
        *,
        quantity: int = 1,
        justified: bool = False,
        person_id: int | None = None,
        family_id: int | None = None,
        activity: Activity | None = None,
    ) -> int:
        row = Reservation(
            family=family_id or self.family_id,
            person=person_id or self.person_id,
            activity_day=await self.day(day, activity),
            status=status,
            quantity=quantity,
            absent=justified,
            absence_justified=justified,
        )
        await row.save()
        return int(row.id)


async def make_activity(structure: Structure, wallet_type: WalletType, name: str) -> Activity:
    activity = Activity(
        structure=structure.id,
        wallet_type=wallet_type.id,
        name=name,
        start_time=time(11, 30),
        end_time=time(13, 30),
    )
    await activity.save()
    return activity


async def add_tariff(activity: Activity, band: str, cents: int, valid_from: date) -> None:
    await Tariff(
        activity=activity.id, band=band, unit_price_cents=cents, valid_from=valid_from
    ).save()


async def money_setup(
    *,
    login: str = "famille",
    band: str = "A",
    backend: str = "sandbox",
    options: dict[str, Any] | None = None,
    structure_threshold: int | None = None,
    wallet_threshold: int | None = None,
    emails: str = "parent@example.fr",
) -> MoneySetup:
    structure = Structure(
        name="Mairie de Testville",
        slug=f"testville-{login}",
        timezone=TZ,
        debt_block_cents=structure_threshold,
        payment_backend=backend,
        payment_options=options or {},
    )
    await structure.save()
    wallet_type = WalletType(
        structure=structure.id, name="Services Scolaires et ALSH", debt_block_cents=wallet_threshold
    )
    await wallet_type.save()
    activity = await make_activity(structure, wallet_type, "Restauration Scolaire")
    setup = await make_family(login=login, structure=structure, emails=emails)
    await Family.update({Family.tariff_band: band}).where(Family.id == setup.family.id)
    wallet = Wallet(family=setup.family.id, wallet_type=wallet_type.id)
    await wallet.save()
    return MoneySetup(structure, wallet_type, activity, setup, int(wallet.id))


async def second_person(setup: MoneySetup, first_name: str = "Amalia") -> int:
    person = Person(family=setup.family_id, first_name=first_name, last_name="DUPONT")
    await person.save()
    return int(person.id)
