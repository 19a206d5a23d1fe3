"""Building rows for tests, with the few fields each test cares about (one module for all)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from portal import clock
from portal.domain.accounts import rules
from portal.domain.accounts.passwords import hash_password
from portal.domain.money.service import ensure_wallets
from portal.domain.staff.mfa import VALID_WINDOW, enrol_with_secret
from portal.domain.staff.service import Actor
from portal.tables import (
    Account,
    AccountFamily,
    Activity,
    ActivityDay,
    Enrollment,
    Family,
    Movement,
    NewsItem,
    Person,
    Reservation,
    RulesDocument,
    StaffMember,
    StaffStructure,
    StaffTotp,
    Structure,
    Tariff,
    Wallet,
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


# --- back office: staff members, a structure with requests awaiting decisions ------------------


STAFF_PASSWORD = "Agent-Test-2026!"
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TZ = "Europe/Paris"


def today() -> date:
    return clock.local_today(TZ)


def next_weekday(weekday: int, after: date | None = None, weeks: int = 1) -> date:
    start = (after or today()) + timedelta(days=1)
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    return day + timedelta(weeks=weeks - 1)


async def make_staff(login: str, *structures: Structure, is_admin: bool = False) -> StaffMember:
    member = StaffMember(
        login=login,
        password_hash=cached_hash(STAFF_PASSWORD),
        display_name=f"Agent {login}",
        is_admin=is_admin,
    )
    await member.save()
    for structure in structures:
        await StaffStructure(staff=member.id, structure=structure.id).save()
    if is_admin:  # administrators must have a second factor (issue 11)
        await enrol_with_secret(int(member.id), TEST_TOTP_SECRET)
    return member


async def next_totp_code(staff_id: int) -> str:
    """A code the portal will accept now: the earliest unused step of the valid window."""
    import pyotp

    row = await StaffTotp.objects().get(StaffTotp.staff == staff_id)
    assert row is not None
    totp = pyotp.TOTP(str(row.secret))
    now_step = totp.timecode(clock.utcnow())
    step = max(now_step - VALID_WINDOW, int(row.last_step) + 1)
    if step > now_step + VALID_WINDOW:
        clock.shift(30 * (step - now_step - VALID_WINDOW))
    return str(totp.generate_otp(step))


def actor(member: StaffMember) -> Actor:
    return Actor.of(member)


async def reserve(
    family: FamilySetup,
    person: Person,
    day: ActivityDay,
    status: str,
    *,
    rank: int | None = None,
    confirmed_at: datetime | None = None,
) -> Reservation:
    """A reservation with the day's counters kept equal to its rows."""
    row = Reservation(
        family=family.family.id,
        person=person.id,
        activity_day=day.id,
        status=status,
        waitlist_rank=rank,
        confirmed_at=confirmed_at or clock.utcnow(),
    )
    await row.save()
    if status == "accepted":
        await ActivityDay.raw(
            "UPDATE activity_day SET accepted_count = accepted_count + 1 WHERE id = {}", day.id
        )
    elif status == "waitlisted":
        await ActivityDay.raw(
            "UPDATE activity_day SET waitlisted_count = waitlisted_count + 1 WHERE id = {}", day.id
        )
    return row


@dataclass
class World:
    """One structure: two families, a full day with its waitlist, a day awaiting decisions,
    a past day, a news item."""

    structure: Structure
    family: FamilySetup  # three children
    other: FamilySetup  # two children
    activity: Activity  # capacity 2, waitlist 2
    decision_activity: Activity  # needs a staff decision, capacity 1
    full_day: ActivityDay  # 2 accepted (family), waitlist: family child 3 (1), other (2)
    decision_day: ActivityDay  # two pending requests of `other`
    past_day: ActivityDay  # yesterday, family's first child accepted
    accepted: list[Reservation]
    waitlisted: list[Reservation]
    pending: list[Reservation]
    past: Reservation
    news: NewsItem

    @property
    def sid(self) -> int:
        return int(self.structure.id)


async def make_world(name: str = "Mairie de Testville", prefix: str = "a") -> World:
    structure = await make_structure(name, slug=f"mairie-{prefix}")
    family = await make_family(
        login=f"{prefix}-dupont",
        structure=structure,
        children=("Paolo", "Amalia", "Lina"),
        name=f"DUPONT{prefix.upper()} Jean-Paul",
    )
    other = await make_family(
        login=f"{prefix}-martin",
        structure=structure,
        children=("Léa", "Tom"),
        name=f"MARTIN{prefix.upper()} Sophie",
        emails="martin@example.fr",
    )
    activity = await make_activity(structure, capacity=2, waitlist=2)
    decision_activity = await make_activity(
        structure, "Cours de piano", capacity=1, waitlist=0, needs_decision=True
    )
    await enroll(family.people + other.people, activity, decision_activity)
    wednesday = next_weekday(2, weeks=2)
    [full_day] = await make_days(activity, wednesday)
    [decision_day] = await make_days(decision_activity, wednesday + timedelta(days=3))
    [past_day] = await make_days(activity, today() - timedelta(days=1))
    earlier = clock.utcnow() - timedelta(hours=5)
    accepted = [
        await reserve(family, family.people[0], full_day, "accepted"),
        await reserve(family, family.people[1], full_day, "accepted"),
    ]
    waitlisted = [
        await reserve(
            family, family.people[2], full_day, "waitlisted", rank=1, confirmed_at=earlier
        ),
        await reserve(other, other.people[0], full_day, "waitlisted", rank=2),
    ]
    pending = [
        await reserve(other, other.people[0], decision_day, "pending"),
        await reserve(other, other.people[1], decision_day, "pending"),
    ]
    past = await reserve(family, family.people[0], past_day, "accepted")
    for setup in (family, other):
        await ensure_wallets(int(setup.family.id))
    news = NewsItem(structure=structure.id, title=f"Info {prefix}", body="Texte.")
    await news.save()
    for row in (full_day, decision_day, past_day):
        fresh = await ActivityDay.objects().get(ActivityDay.id == row.id)
        assert fresh is not None
        row.accepted_count, row.waitlisted_count = fresh.accepted_count, fresh.waitlisted_count
    return World(
        structure, family, other, activity, decision_activity, full_day, decision_day,
        past_day, accepted, waitlisted, pending, past, news,
    )  # fmt: skip


# --- many rows, for the long lists -----------------------------------------------------

PER_DAY = 50


async def bulk_insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    one = "(" + ", ".join("{}" for _ in columns) + ")"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        await Family.raw(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join(one for _ in chunk),
            *(value for row in chunk for value in row),
        )


async def add_pending(world: World, count: int) -> None:
    """`count` more pending requests on the decision activity, PER_DAY children a day
    (bulk SQL: thousands in a second)."""
    family = int(world.other.family.id)
    [latest] = (
        await ActivityDay.select(ActivityDay.day)
        .where(ActivityDay.activity == world.decision_activity.id)
        .order_by(ActivityDay.day, ascending=False)
        .limit(1)
    )
    first = latest["day"] + timedelta(days=1)
    days = -(-count // PER_DAY)
    await bulk_insert(
        "activity_day",
        ("activity", "day", "capacity", "waitlist_capacity"),
        [(int(world.decision_activity.id), first + timedelta(days=n), 1, 0) for n in range(days)],
    )
    day_ids = [
        int(r["id"])
        for r in await Family.raw(
            "SELECT id FROM activity_day WHERE activity = {} AND day >= {} ORDER BY day",
            int(world.decision_activity.id),
            first,
        )
    ]
    if not await Person.exists().where((Person.family == family) & (Person.last_name == "LOT")):
        await bulk_insert(
            "person",
            ("family", "first_name", "last_name"),
            [(family, f"Enfant{n:02d}", "LOT") for n in range(PER_DAY)],
        )
    people = [
        int(r["id"])
        for r in await Family.raw(
            "SELECT id FROM person WHERE family = {} AND last_name = 'LOT' ORDER BY id", family
        )
    ]
    at = clock.utcnow()
    await bulk_insert(
        "reservation",
        ("family", "person", "activity_day", "status", "confirmed_at", "updated_at"),
        [
            (family, people[n % PER_DAY], day_ids[n // PER_DAY], "pending", at, at)
            for n in range(count)
        ],
    )


# --- money: a structure with a canteen, tariffs, a family and its days -------------------------


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


async def make_wallet_activity(
    structure: Structure, wallet_type: WalletType, name: str
) -> Activity:
    """An activity debiting ``wallet_type``, without tariffs (add_tariff gives them)."""
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
    activity = await make_wallet_activity(structure, wallet_type, "Restauration Scolaire")
    setup = await make_family(login=login, structure=structure, emails=emails)
    await Family.update({Family.tariff_band: band}).where(Family.id == setup.family.id)
    wallet = Wallet(family=setup.family.id, wallet_type=wallet_type.id)
    await wallet.save()
    return MoneySetup(structure, wallet_type, activity, setup, int(wallet.id))


async def second_person(setup: MoneySetup, first_name: str = "Amalia") -> int:
    person = Person(family=setup.family_id, first_name=first_name, last_name="DUPONT")
    await person.save()
    return int(person.id)


# --- a structure's night of requests: families, reservations, movements ------------------------


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


async def reserve_with_movement(
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
    movement = await add_movement(reservation, "book", outcome, at=at)
    return reservation, movement


async def add_movement(
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
        night.movements.append((await reserve_with_movement(dupont, paolo, day, "accepted"))[1])
    night.movements.append(
        (await reserve_with_movement(dupont, amalia, alsh_days[2], "waitlisted"))[1]
    )
    cancelled, booked = await reserve_with_movement(dupont, paolo, canteen_days[0], "accepted")
    night.movements += [booked, await add_movement(cancelled, "cancel", "cancelled")]
    night.movements.append(
        (await reserve_with_movement(martin, martin.people[0], alsh_days[0], "pending"))[1]
    )
    night.movements.append(
        (await reserve_with_movement(bernard, bernard.people[0], canteen_days[1], "accepted"))[1]
    )
    night.movements.append(
        (await reserve_with_movement(bernard, bernard.people[0], alsh_days[3], "refused"))[1]
    )
    night.movements.append(
        (await reserve_with_movement(durand, durand.people[0], canteen_days[2], "accepted"))[1]
    )

    other = await make_structure("Ecole de musique", "musique")
    piano = await make_activity(other, "Piano")
    [piano_day] = await make_days(piano, days[0])
    far = await make_family(
        login="loin", structure=other, children=("Eva",), emails="eva@example.fr"
    )
    await reserve_with_movement(far, far.people[0], piano_day, "accepted")
    return night
