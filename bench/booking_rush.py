"""The opening rush: many families confirming the same day at once.

Prints the wall time of N concurrent confirmations against the same N run one after
another (the baseline), and the time to build one child's month calendar.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from portal.db import make_engine
from portal.domain.accounts.passwords import hash_password
from portal.domain.booking import views
from portal.domain.booking.apply import apply_basket
from portal.domain.booking.basket import Basket, BasketItem
from portal.domain.booking.scope import load_scope
from portal.domain.booking.states import DraftAction
from portal.migrate import migrate
from portal.settings import Settings
from portal.tables import (
    ALL_TABLES,
    Account,
    AccountFamily,
    Activity,
    ActivityDay,
    Enrollment,
    Family,
    Person,
    Structure,
    Tariff,
    WalletType,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def reset(engine: object) -> None:
    for table in reversed(ALL_TABLES):
        await table.delete(force=True)


async def build(
    families: int, capacity: int, day: date
) -> tuple[ActivityDay, list[tuple[int, int, int]]]:
    structure = Structure(name="Mairie de Bench", slug="bench")
    await structure.save()
    wallet_type = WalletType(structure=structure.id, name="Services")
    await wallet_type.save()
    activity = Activity(
        structure=structure.id,
        wallet_type=wallet_type.id,
        name="ALSH",
        start_time=time(8, 30),
        end_time=time(17, 30),
        capacity=capacity,
        waitlist_capacity=10,
        booking_deadline="days:1@10:00",
        cancellation_deadline="days:1@10:00",
    )
    await activity.save()
    await Tariff(
        activity=activity.id, band="A", unit_price_cents=1280, valid_from=date(2020, 1, 1)
    ).save()
    activity_day = ActivityDay(
        activity=activity.id, day=day, capacity=capacity, waitlist_capacity=10
    )
    await activity_day.save()
    password = hash_password("Bench-Password-2026")
    people = []
    for n in range(families):
        account = Account(login=f"bench{n}", password_hash=password, display_name=f"F{n}")
        await account.save()
        family = Family(structure=structure.id, name=f"FAMILLE {n}")
        await family.save()
        await AccountFamily(account=account.id, family=family.id).save()
        person = Person(family=family.id, first_name="Enfant", last_name=f"{n}")
        await person.save()
        await Enrollment(person=person.id, activity=activity.id).save()
        people.append((account.id, family.id, person.id))
    return activity_day, people


def basket(day: ActivityDay, person_id: int) -> Basket:
    return Basket([BasketItem(person_id, int(day.activity), day.id, day.day, DraftAction.BOOK)])


async def scratch_database(server_url: str) -> str:
    """A fresh database next to the one given, so the benchmark never touches real tables."""
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute("DROP DATABASE IF EXISTS portal_bench WITH (FORCE)")
        await connection.execute("CREATE DATABASE portal_bench")
    finally:
        await connection.close()
    return f"{server_url.rsplit('/', 1)[0]}/portal_bench"


async def run(database: str | None, families: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = (
            await scratch_database(database) if database else f"sqlite:///{Path(tmp) / 'b.sqlite3'}"
        )
        settings = Settings.from_env({"PORTAL_DATABASE_URL": url, "PORTAL_VAR_DIR": tmp})
        engine = make_engine(settings)
        await migrate(engine)
        if isinstance(engine, PostgresEngine):
            await engine.start_connection_pool(max_size=20)
        day = date(2026, 12, 2)
        figures = {}
        for mode in ("sequential", "concurrent"):
            await reset(engine)
            activity_day, people = await build(families, capacity=30, day=day)
            started = clock.perf_counter()
            if mode == "sequential":
                for account_id, family_id, person_id in people:
                    await apply_basket(
                        account_id, family_id, basket(activity_day, person_id), now=NOW
                    )
            else:
                await asyncio.gather(
                    *(
                        apply_basket(
                            account_id, family_id, basket(activity_day, person_id), now=NOW
                        )
                        for account_id, family_id, person_id in people
                    )
                )
            figures[mode] = clock.perf_counter() - started
            row = await ActivityDay.objects().get(ActivityDay.id == activity_day.id)
            assert row is not None and row.accepted_count == 30 and row.waitlisted_count == 10
        scope = await load_scope(people[0][1])
        samples = []
        for _ in range(20):
            started = clock.perf_counter()
            await views.month_view(
                scope, people[0][2], None, 2026, 12, Basket(), NOW - timedelta(days=1)
            )
            samples.append(clock.perf_counter() - started)
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()
        if database:
            connection = await asyncpg.connect(database)
            await connection.execute("DROP DATABASE IF EXISTS portal_bench WITH (FORCE)")
            await connection.close()
    kind = "postgresql" if database else "sqlite"
    print(f"engine: {kind}, families: {families}, day of 30 places + 10 on the waitlist")
    print(
        f"sequential confirmations (baseline): {figures['sequential']:.2f} s "
        f"({families / figures['sequential']:.0f} per s)"
    )
    print(
        f"concurrent confirmations:            {figures['concurrent']:.2f} s "
        f"({families / figures['concurrent']:.0f} per s), "
        f"ratio to baseline {figures['concurrent'] / figures['sequential']:.2f}"
    )
    print(f"month calendar of one child: median {statistics.median(samples) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=200)
    parser.add_argument(
        "--database", default=None, help="postgresql://... (default: a SQLite file)"
    )
    args = parser.parse_args()
    asyncio.run(run(args.database, args.families))


if __name__ == "__main__":
    main()
