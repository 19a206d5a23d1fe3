"""Rows for the back-office tests: a structure with families, activities, days and requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from portal import clock
from portal.domain.money.service import ensure_wallets
from portal.domain.staff.mfa import VALID_WINDOW, enrol_with_secret
from portal.domain.staff.service import Actor
from portal.tables import (
    Activity,
    ActivityDay,
    Family,
    NewsItem,
    Person,
    Reservation,
    StaffMember,
    StaffStructure,
    StaffTotp,
    Structure,
)
from tests.factories import (
    FamilySetup,
    cached_hash,
    enroll,
    make_activity,
    make_days,
    make_family,
    make_structure,
)

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
