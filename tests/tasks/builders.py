"""A structure's day of requests: families, children, activities, reservations, movements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from portal import clock
from portal.tables import (
    Account,
    AccountFamily,
    Activity,
    ActivityDay,
    Movement,
    Person,
    Reservation,
    Structure,
)
from tests.factories import FamilySetup, make_activity, make_days, make_family, make_structure


@dataclass
class Night:
    structure: Structure
    alsh: Activity
    canteen: Activity
    days: list[date]
    families: dict[str, FamilySetup] = field(default_factory=dict)
    movements: list[Movement] = field(default_factory=list)

    @property
    def reporting(self) -> list[str]:
        """Families with an address, that each expect one report."""
        return ["DUPONT", "MARTIN", "BERNARD"]


async def reserve(
    setup: FamilySetup,
    person: Person,
    day: ActivityDay,
    outcome: str,
    *,
    at: datetime | None = None,
) -> tuple[Reservation, Movement]:
    at = at or clock.utcnow()
    reservation = Reservation(
        family=setup.family.id,
        person=person.id,
        activity_day=day.id,
        status=outcome,
        confirmed_at=at,
        updated_at=at,
    )
    await reservation.save()
    movement = await move(reservation, "book", outcome, at=at)
    return reservation, movement


async def move(
    reservation: Reservation, kind: str, outcome: str, *, at: datetime | None = None
) -> Movement:
    at = at or clock.utcnow()
    await Reservation.update({Reservation.status: outcome}).where(Reservation.id == reservation.id)
    movement = Movement(
        family=reservation.family,
        reservation=reservation.id,
        kind=kind,
        outcome=outcome,
        created_at=at,
    )
    await movement.save()
    return movement


async def add_account(setup: FamilySetup, login: str, emails: str) -> Account:
    account = Account(login=login, password_hash="x", display_name=login, emails=emails)
    await account.save()
    await AccountFamily(account=account.id, family=setup.family.id).save()
    return account


async def make_night() -> Night:
    """Four families of the Mairie de CarteVille with today's requests (DURAND has no
    e-mail), and a family of another structure that the night must not touch."""
    structure = await make_structure("Mairie de CarteVille", "carteville")
    alsh = await make_activity(structure, "ALSH 6-12 - Mercredi Journée")
    canteen = await make_activity(structure, "Restauration Scolaire", capacity=None)
    today = clock.local_today("Europe/Paris")
    first = today + timedelta(days=7)
    days = [first + timedelta(days=i) for i in range(4)]
    alsh_days = await make_days(alsh, *days)
    canteen_days = await make_days(canteen, *days)
    night = Night(structure, alsh, canteen, days)

    dupont = await make_family(
        login="dupont", structure=structure, emails="jp@example.fr;jp.travail@example.fr"
    )
    await add_account(dupont, "dupont2", "claire@example.fr;JP@example.fr")
    martin = await make_family(
        login="martin",
        structure=structure,
        children=("Léo",),
        name="MARTIN Sophie",
        emails="sophie@example.fr",
    )
    bernard = await make_family(
        login="bernard",
        structure=structure,
        children=("Zoé",),
        name="BERNARD Luc",
        emails="luc@example.fr",
    )
    durand = await make_family(
        login="durand", structure=structure, children=("Tom",), name="DURAND Claire", emails=""
    )
    night.families = {"DUPONT": dupont, "MARTIN": martin, "BERNARD": bernard, "DURAND": durand}

    paolo, amalia = dupont.people
    for day in alsh_days[:2]:
        night.movements.append((await reserve(dupont, paolo, day, "accepted"))[1])
    night.movements.append((await reserve(dupont, amalia, alsh_days[2], "waitlisted"))[1])
    cancelled, booked = await reserve(dupont, paolo, canteen_days[0], "accepted")
    night.movements += [booked, await move(cancelled, "cancel", "cancelled")]
    night.movements.append((await reserve(martin, martin.people[0], alsh_days[0], "pending"))[1])
    night.movements.append(
        (await reserve(bernard, bernard.people[0], canteen_days[1], "accepted"))[1]
    )
    night.movements.append((await reserve(bernard, bernard.people[0], alsh_days[3], "refused"))[1])
    night.movements.append(
        (await reserve(durand, durand.people[0], canteen_days[2], "accepted"))[1]
    )

    other = await make_structure("Ecole de musique", "musique")
    piano = await make_activity(other, "Piano")
    [piano_day] = await make_days(piano, days[0])
    far = await make_family(
        login="loin", structure=other, children=("Eva",), emails="eva@example.fr"
    )
    await reserve(far, far.people[0], piano_day, "accepted")
    return night
