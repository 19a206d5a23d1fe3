"""The nightly run at town size: transmission, reports and their e-mails.

Builds a structure with N families (bulk SQL), each with M movements on upcoming days,
then runs the real night (`run_transmission`: claim, export, reports queued in the outbox)
and the real relay (`relay_exclusively`) to a local aiosmtpd server started in a process of
its own. Prints transmit time, mail time, mails/s, and the peak RSS of each process; checks
that every movement was transmitted and reported once and every family got one e-mail.

    .venv/bin/python bench/nightly.py                      # SQLite, 10,000 families
    .venv/bin/python bench/nightly.py --database postgresql://postgres@127.0.0.1:5432/
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import socket
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from piccolo.engine.postgres import PostgresEngine

from portal import clock
from portal.db import make_engine
from portal.domain.outbox.service import relay_exclusively
from portal.domain.transmission.service import run_transmission
from portal.migrate import migrate
from portal.settings import Settings
from portal.tables import Activity, Movement, OutboxEmail, Structure, WalletType

CHILDREN = 2
ROWS_PER_INSERT = 200


# --- the SMTP server, in a process of its own -----------------------------------------------


def _smtp_sink(port: int, ready: Any, done: Any, expected: int, result: Any) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        received = 0
        first: float | None = None
        last = 0.0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            now = time.perf_counter()
            self.first = self.first or now
            self.last = now
            self.received += 1
            if self.received >= expected:
                done.set()
            return "250 OK"

    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    done.wait()
    time.sleep(0.5)  # a duplicate would arrive now
    controller.stop()
    result.put((handler.received, peak_rss_kb(), time.process_time()))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- data ------------------------------------------------------------------------------------


async def bulk_insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    one = "(" + ", ".join("{}" for _ in columns) + ")"
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        await Structure.raw(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608
            + ", ".join(one for _ in chunk),
            *(value for row in chunk for value in row),
        )


async def build(families: int, per_family: int, now: datetime) -> int:
    """A structure, two activities, enough upcoming days, and every family's movements."""
    structure = Structure(name="Mairie de Bench", slug="bench")
    await structure.save()
    wallet = WalletType(structure=structure.id, name="Services")
    await wallet.save()
    activities = []
    for position, name in enumerate(("ALSH 6-12 - Mercredi Journée", "Restauration Scolaire")):
        activity = Activity(
            structure=structure.id,
            wallet_type=wallet.id,
            name=name,
            start_time=clock_time(8, 30),
            end_time=clock_time(17, 30),
            capacity=None,
            position=position,
        )
        await activity.save()
        activities.append(activity.id)
    per_child = -(-per_family // CHILDREN)
    first = now.date() + timedelta(days=7)
    days = [(a, first + timedelta(days=i), None) for a in activities for i in range(per_child)]
    await bulk_insert("activity_day", ("activity", "day", "capacity"), days)
    rows = await Structure.raw("SELECT id FROM activity_day ORDER BY id")
    day_ids = [int(r["id"]) for r in rows]

    await bulk_insert(
        "account",
        ("id", "login", "password_hash", "display_name", "emails", "must_change_password"),
        [
            (n, f"bench{n}", "x", f"F{n}", f"parent{n}@example.fr", False)
            for n in range(1, families + 1)
        ],
    )
    await bulk_insert(
        "family",
        ("id", "structure", "name"),
        [(n, structure.id, f"FAMILLE{n} Parent") for n in range(1, families + 1)],
    )
    await bulk_insert(
        "account_family", ("account", "family"), [(n, n) for n in range(1, families + 1)]
    )
    await bulk_insert(
        "person",
        ("id", "family", "first_name", "last_name"),
        [
            (CHILDREN * (n - 1) + c + 1, n, f"Enfant{c}", f"FAMILLE{n}")
            for n in range(1, families + 1)
            for c in range(CHILDREN)
        ],
    )
    reservations: list[tuple[Any, ...]] = []
    movements: list[tuple[Any, ...]] = []
    outcomes = ("accepted",) * 8 + ("waitlisted", "pending")
    at = now - timedelta(hours=3)
    rid = 0
    for n in range(1, families + 1):
        for k in range(per_family):
            child = k % CHILDREN
            person = CHILDREN * (n - 1) + child + 1
            day = day_ids[(k // CHILDREN + child * per_child) % len(day_ids)]
            outcome = outcomes[(n + k) % len(outcomes)]
            rid += 1
            reservations.append((rid, n, person, day, outcome, at, at))
            movements.append((rid, n, rid, "book", outcome, at))
    await bulk_insert(
        "reservation",
        ("id", "family", "person", "activity_day", "status", "confirmed_at", "updated_at"),
        reservations,
    )
    await bulk_insert(
        "movement", ("id", "family", "reservation", "kind", "outcome", "created_at"), movements
    )
    return int(structure.id)


async def scratch_database(server_url: str, name: str) -> str:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return str(urlsplit(server_url)._replace(path=f"/{name}").geturl())


async def drop_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await connection.close()


def _rss_mb(kilobytes: int) -> str:
    return f"{kilobytes / 1024:.0f} MB"


def peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, not inherited from the
    parent of a spawned process)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _load_average() -> str:
    return Path("/proc/loadavg").read_text().strip()


async def run(server_url: str | None, families: int, per_family: int) -> None:
    name = f"portal_bench_nightly_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        url = (
            await scratch_database(server_url, name)
            if server_url
            else f"sqlite:///{Path(tmp) / 'nightly.sqlite3'}"
        )
        port = _free_port()
        settings = Settings.from_env(
            {
                "PORTAL_DATABASE_URL": url,
                "PORTAL_VAR_DIR": tmp,
                "PORTAL_SMTP_HOST": "127.0.0.1",
                "PORTAL_SMTP_PORT": str(port),
                "PORTAL_BASE_URL": "https://portail.example.fr",
            }
        )
        engine = make_engine(settings)
        try:
            await migrate(engine)
            if isinstance(engine, PostgresEngine):
                await engine.start_connection_pool(max_size=10)
            now = clock.utcnow()
            load_at_start = _load_average()
            started = time.perf_counter()
            structure_id = await build(families, per_family, now)
            if server_url:
                # Statistics, as autovacuum keeps them in production: without them the
                # planner takes the freshly loaded tables for empty ones.
                await Structure.raw("ANALYZE")
            built = time.perf_counter() - started
            rss_before = peak_rss_kb()

            cpu, started = time.process_time(), time.perf_counter()
            report = await run_transmission(structure_id, settings=settings, now=now)
            transmit = time.perf_counter() - started
            transmit_cpu = time.process_time() - cpu
            rss_transmit = peak_rss_kb()

            context = multiprocessing.get_context("spawn")
            ready, done, result = context.Event(), context.Event(), context.Queue()
            sink = context.Process(
                target=_smtp_sink, args=(port, ready, done, report.emails_queued, result)
            )
            sink.start()
            ready.wait(30)
            cpu, started = time.process_time(), time.perf_counter()
            outcome = await relay_exclusively(settings)
            mail = time.perf_counter() - started
            mail_cpu = time.process_time() - cpu
            await asyncio.to_thread(done.wait, 60)
            received, sink_rss, sink_cpu = await asyncio.to_thread(result.get, True, 60)
            sink.join(10)
            rss_mail = peak_rss_kb()

            untransmitted = await Movement.count().where(Movement.transmitted_at.is_null())
            unreported = await Movement.count().where(Movement.reported_at.is_null())
            sent = await OutboxEmail.count().where(OutboxEmail.status == "sent")
        finally:
            if isinstance(engine, PostgresEngine):
                await engine.close_connection_pool()
            if server_url:
                await drop_database(server_url, name)

    assert outcome is not None, "un autre relais tenait le bail"
    assert report.movements_transmitted == families * per_family
    assert (untransmitted, unreported) == (0, 0)
    assert report.emails_queued == families == sent == outcome.sent == received, (
        report.emails_queued,
        sent,
        outcome.sent,
        received,
    )
    kind = "postgresql" if server_url else "sqlite"
    total = transmit + mail
    print(f"load average at the start: {load_at_start}")
    print(f"engine: {kind}; {families} families, {report.movements_transmitted} movements")
    print(f"data built in {built:.1f} s (not counted)")
    print(
        f"transmit: {transmit:.1f} s wall, {transmit_cpu:.1f} s CPU "
        f"({report.reservations_transmitted} reservations, {report.emails_queued} reports "
        f"queued, export {report.export_path.name})"
    )
    print(
        f"mail: {mail:.1f} s wall, {mail_cpu:.1f} s CPU, {outcome.sent / mail:.0f} mails/s "
        f"({outcome.sent} sent, {received} received by the SMTP server, "
        f"which used {sink_cpu:.1f} s CPU)"
    )
    print(f"total: {total:.1f} s (target 60 s)")
    print(
        f"peak RSS: bench process {_rss_mb(rss_before)} after building, "
        f"{_rss_mb(rss_transmit)} after transmit, {_rss_mb(rss_mail)} after mail; "
        f"SMTP server process {_rss_mb(sink_rss)}"
    )
    print(f"load average at the end: {_load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=10_000)
    parser.add_argument("--movements-per-family", type=int, default=10)
    parser.add_argument(
        "--database",
        default=None,
        help="a PostgreSQL server URL (a scratch database is created there and dropped); "
        "default: a SQLite file",
    )
    args = parser.parse_args()
    asyncio.run(run(args.database, args.families, args.movements_per_family))


if __name__ == "__main__":
    main()
