"""Opening day: N families through the whole booking journey over real HTTP.

Each family: the login page, the login, the calendar, 10 taps (htmx fragments), the recap,
the confirmation and the result page, C families at a time. Two set-ups, in one run:

- ``pg``: PostgreSQL + Redis, two ``portal serve`` processes behind nginx (a config is
  generated in a temporary directory; nginx is started and stopped by the benchmark);
- ``sqlite``: the embedded default, one process, no Redis.

Printed per set-up: p50/p95/p99 per request kind, requests/s, confirms/s, errors by status,
server CPU per request (from /proc of the server processes) and the invariants (no day above
capacity, counters equal rows, waitlist ranks 1..k unique). Baselines measured in the same
run with wrk: a bare Litestar app on the same uvicorn settings, and the month board
fragment of one logged-in parent against it (50 connections, one process on one core).

Everything listens on 127.0.0.1 only; counts and durations are bounded by the flags.

    .venv/bin/python bench/opening_rush.py --families 1000        # make bench
    .venv/bin/python bench/opening_rush.py --families 200 --setups sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time as clock
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from portal.db import make_engine, use_engine
from portal.domain.accounts import rules as account_rules
from portal.domain.accounts.passwords import hash_password
from portal.migrate import migrate
from portal.settings import Settings
from portal.tables import (
    Account,
    AccountFamily,
    Activity,
    ActivityDay,
    Enrollment,
    Family,
    Person,
    Structure,
    Tariff,
    Wallet,
    WalletType,
)

PASSWORD = "Bench-Parent-2026!"
CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')
KINDS = ("login page", "login", "calendar", "tap", "recap", "confirm", "result")
MAX_FAMILIES = 5000
MAX_CONCURRENCY = 500
TICKS = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"


# --- the simulated parents' HTTP client -----------------------------------------------------
# The load generator shares the machine's two cores with the server, so every millisecond it
# spends is taken from the figures. httpx cost about 2 ms of CPU per request and 30 ms per
# client (it loads the CA bundle for each): a third of the machine in the 1,000-family rush.
# aiohttp does the same requests for about 0.15 ms each.


@dataclass
class Page:
    status_code: int
    text: str


class HTTPError(Exception):
    """A request that got no answer (refused, reset, timed out)."""


class Browser:
    """One parent's browser: its own cookies and connection, no redirect followed."""

    def __init__(
        self, base_url: str = "", timeout: float = 120, headers: dict[str, str] | None = None
    ) -> None:
        self.base_url = base_url
        # unsafe: the portal is reached by its address (127.0.0.1), not a name.
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=timeout),
            headers=headers,
        )

    async def request(
        self,
        method: str,
        url: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Page:
        try:
            async with self.session.request(
                method, self.base_url + url, data=data, headers=headers, allow_redirects=False
            ) as answer:
                return Page(answer.status, await answer.text())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HTTPError(type(exc).__name__) from exc

    async def get(self, url: str, headers: dict[str, str] | None = None) -> Page:
        return await self.request("GET", url, headers=headers)

    async def post(
        self, url: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> Page:
        return await self.request("POST", url, data=data, headers=headers)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.key}={c.value}" for c in self.session.cookie_jar)

    async def aclose(self) -> None:
        await self.session.close()

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def parent_browser(base: str, n: int) -> Browser:
    """Parent n's browser, from their own address, as at home (the proxy passes it on)."""
    address = {"x-forwarded-for": f"10.{n // 62500}.{n // 250 % 250}.{n % 250 + 1}"}
    return Browser(base, timeout=120, headers=address)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --- building the families (bulk SQL) ------------------------------------------------------


def booking_days(count: int, months_later: int = 0) -> list[date]:
    """``count`` weekdays of one month far enough ahead to be bookable."""
    start = (datetime.now(UTC).date() + timedelta(days=10)).replace(day=1)
    for _ in range(1 + months_later):
        start = (start + timedelta(days=32)).replace(day=1)
    _, last = calendar.monthrange(start.year, start.month)
    days = [start.replace(day=d) for d in range(1, last + 1)]
    return [d for d in days if d.weekday() < 5][:count]


async def build(
    families: int, days: list[date], burst_days: list[date], capacity: int, waitlist: int
) -> dict[str, Any]:
    chunk = 500
    structure = Structure(name="Mairie de Bench", slug="bench")
    await structure.save()
    wallet_type = WalletType(structure=structure.id, name="Services Scolaires et ALSH")
    await wallet_type.save()
    activities = []
    for name, activity_days in (("ALSH Vacances", days), ("ALSH Vacances suivantes", burst_days)):
        activity = Activity(
            structure=structure.id, wallet_type=wallet_type.id, name=name,
            start_time=time(8, 30), end_time=time(17, 30), capacity=capacity,
            waitlist_capacity=waitlist, booking_deadline="days:1@10:00",
            cancellation_deadline="days:1@10:00",
        )  # fmt: skip
        await activity.save()
        await Tariff(
            activity=activity.id, band="A", unit_price_cents=1280, valid_from=date(2020, 1, 1)
        ).save()
        await ActivityDay.insert(
            *[
                ActivityDay(
                    activity=activity.id, day=d, capacity=capacity, waitlist_capacity=waitlist
                )
                for d in activity_days
            ]
        )
        activities.append(activity)
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    for start in range(0, families, chunk):
        numbers = range(start, min(families, start + chunk))
        accounts = await Account.insert(
            *[
                Account(
                    login=f"bench{n}",
                    password_hash=password_hash,
                    display_name=f"FAMILLE {n}",
                    emails=f"bench{n}@example.fr",
                    must_change_password=False,
                    rgpd_version=account_rules.RGPD_VERSION,
                    rgpd_accepted_at=now,
                    cgu_version=account_rules.CGU_VERSION,
                    cgu_accepted_at=now,
                )
                for n in numbers
            ]
        ).returning(Account.id)
        family_rows = await Family.insert(
            *[Family(structure=structure.id, name=f"FAMILLE {n}") for n in numbers]
        ).returning(Family.id)
        await AccountFamily.insert(
            *[
                AccountFamily(account=a["id"], family=f["id"])
                for a, f in zip(accounts, family_rows, strict=True)
            ]
        )
        await Wallet.insert(
            *[Wallet(family=f["id"], wallet_type=wallet_type.id) for f in family_rows]
        )
        people = await Person.insert(
            *[
                Person(family=f["id"], first_name="Enfant", last_name=f"F{n}")
                for n, f in zip(numbers, family_rows, strict=True)
            ]
        ).returning(Person.id)
        await Enrollment.insert(
            *[Enrollment(person=p["id"], activity=a.id) for p in people for a in activities]
        )
    persons = await Person.select(Person.id).order_by(Person.id)
    return {
        "activity": int(activities[0].id),
        "burst_activity": int(activities[1].id),
        "people": [int(p["id"]) for p in persons],
    }


async def invariants() -> dict[str, Any]:
    days = await ActivityDay.select().order_by(ActivityDay.id)
    from portal.tables import Reservation

    rows = await Reservation.select(
        Reservation.activity_day, Reservation.status, Reservation.waitlist_rank
    )
    accepted: Counter[int] = Counter()
    waitlisted: dict[int, list[int]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    for r in rows:
        statuses[r["status"]] += 1
        if r["status"] == "accepted":
            accepted[r["activity_day"]] += 1
        elif r["status"] == "waitlisted":
            waitlisted[r["activity_day"]].append(r["waitlist_rank"])
    problems = []
    for d in days:
        if d["capacity"] is not None and accepted[d["id"]] > d["capacity"]:
            problems.append(f"day {d['id']}: {accepted[d['id']]} accepted > {d['capacity']}")
        if d["accepted_count"] != accepted[d["id"]]:
            problems.append(f"day {d['id']}: accepted_count {d['accepted_count']} != rows")
        if d["waitlisted_count"] != len(waitlisted[d["id"]]):
            problems.append(f"day {d['id']}: waitlisted_count {d['waitlisted_count']} != rows")
        ranks = sorted(waitlisted[d["id"]])
        if ranks != list(range(1, len(ranks) + 1)):
            problems.append(f"day {d['id']}: waitlist ranks {ranks[:5]}... not 1..k")
    return {"statuses": dict(statuses), "problems": problems}


# --- processes -----------------------------------------------------------------------------


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def pids_named(name: str) -> list[int]:
    """This machine's processes of one program (PostgreSQL's backends, Redis)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine (their CPU is the database's)."""
    return pids_named("postgres")


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idle and I/O wait, since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


@dataclass
class MachineSplit:
    """Where the machine's CPU went during the rush, in seconds."""

    web: float = 0.0
    database: float = 0.0
    proxy: float = 0.0
    redis: float = 0.0
    generator: float = 0.0
    busy: float = 0.0

    @classmethod
    def sample(
        cls, web: list[int], *, database: bool, proxy: list[int] | None = None
    ) -> MachineSplit:
        """`database`: count PostgreSQL's processes, listed afresh (backends come and go)."""
        return cls(
            web=cpu_seconds(web),
            database=cpu_seconds(postgres_pids()) if database else 0.0,
            proxy=cpu_seconds(proxy or []),
            redis=cpu_seconds(pids_named("redis-server")),
            generator=clock.process_time(),
            busy=machine_busy_seconds(),
        )

    def since(self, before: MachineSplit) -> MachineSplit:
        return MachineSplit(
            *(getattr(self, f) - getattr(before, f) for f in self.__dataclass_fields__)
        )

    @property
    def server(self) -> float:
        return self.web + self.database + self.proxy + self.redis


def pinned(command: list[str], cpu: int | None) -> list[str]:
    if cpu is None or not shutil.which("taskset"):
        return command
    return ["taskset", "-c", str(cpu % (os.cpu_count() or 1)), *command]


async def wait_http(url: str, seconds: float = 60) -> None:
    deadline = clock.monotonic() + seconds
    async with Browser() as client:
        while clock.monotonic() < deadline:
            try:
                async with asyncio.timeout(2):
                    await client.get(url)
                return
            except (HTTPError, TimeoutError):
                await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} ne répond pas")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def portal_command() -> list[str]:
    return [sys.executable, "-c", "from portal.cli import main; main()"]


def keeps_access_log(setup: str) -> bool:
    """Behind nginx the proxy keeps the access log, as the README's deployment does."""
    return setup != "pg"


def serve(
    env: dict[str, str], port: int, cpu: int | None, log: Path, *, access_log: bool = True
) -> subprocess.Popen[bytes]:
    command = [*portal_command(), "serve", "--host", HOST, "--port", str(port)]
    if not access_log:
        command.append("--no-access-log")
    return subprocess.Popen(
        pinned(command, cpu),
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


NGINX_CONF = """
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
daemon off;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    upstream portal {{
        least_conn;
        {servers}
        keepalive 128;
        keepalive_timeout 60s;
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://portal;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


def start_nginx(tmp: Path, port: int, upstreams: list[int]) -> subprocess.Popen[bytes]:
    conf = tmp / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            tmp=tmp,
            host=HOST,
            port=port,
            servers="\n        ".join(f"server {HOST}:{p};" for p in upstreams),
            user="user root;" if os.geteuid() == 0 else "",
        )
    )
    return subprocess.Popen(
        ["/usr/sbin/nginx", "-p", str(tmp), "-c", str(conf)],
        stdout=(tmp / "nginx.out").open("ab"),
        stderr=subprocess.STDOUT,
    )


BARE_APP = """
import uvicorn
from litestar import Litestar, get


@get("/", sync_to_thread=False)
def hello() -> str:
    return "Bonjour"


uvicorn.run(
    Litestar([hello]), host="{host}", port={port}, proxy_headers=True,
    forwarded_allow_ips="127.0.0.1", log_level="info", access_log={access_log},
    timeout_keep_alive={keepalive},
)
"""


def wrk(url: str, seconds: int, connections: int, headers: dict[str, str]) -> float:
    command = [
        "/usr/bin/wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
        "--latency",
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non_2xx:
        print(f"    wrk {url}: {non_2xx.group(1)} non-2xx responses")
    return float(match.group(1)) if match else 0.0


# --- the journey ---------------------------------------------------------------------------


@dataclass
class Figures:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    confirms: int = 0
    journeys: int = 0
    skipped: int = 0


async def timed_call(
    figures: Figures, kind: str, call: Any, expected: tuple[int, ...] = (200, 303)
) -> Page | None:
    started = clock.perf_counter()
    try:
        response: Page = await call
    except HTTPError as exc:
        figures.failures[f"{kind}: {type(exc).__name__}"] += 1
        return None
    figures.latencies[kind].append(clock.perf_counter() - started)
    figures.statuses[(kind, response.status_code)] += 1
    if response.status_code not in expected:
        return None
    return response


def csrf_of(response: Page) -> str:
    match = CSRF_RE.search(response.text)
    return match.group(1) if match else ""


async def journey(
    base: str, n: int, person: int, activity: int, days: list[date], taps: int, figures: Figures,
    think_ms: int = 0,
) -> None:  # fmt: skip
    month = f"{days[0].year:04d}-{days[0].month:02d}"
    # A parent reads the answer before the next request: 0.5x to 1.5x the mean, repeatable
    # per family. 0: every parent fires the next request the moment the last one answers
    # (a closed loop: the latency is then the concurrency over the throughput).
    pauses = random.Random(n)

    async def timed(
        figures: Figures, kind: str, call: Any, expected: tuple[int, ...] = (200, 303)
    ) -> Page | None:
        if think_ms and kind != "login page":
            await asyncio.sleep(think_ms * pauses.uniform(0.5, 1.5) / 1000)
        return await timed_call(figures, kind, call, expected)

    async with parent_browser(base, n) as client:
        page = await timed(figures, "login page", client.get("/connexion"))
        if page is None:
            return
        headers = {"referer": f"{base}/connexion"}
        data = {"identifier": f"bench{n}", "password": PASSWORD, "_csrf_token": csrf_of(page)}
        logged = await timed(
            figures, "login", client.post("/connexion", data=data, headers=headers), (303,)
        )
        if logged is None:
            return
        query = f"personne={person}&activite={activity}&mois={month}"
        board = await timed(figures, "calendar", client.get(f"/reservations?{query}"))
        if board is None:
            return
        token = csrf_of(board)
        headers = {"referer": f"{base}/reservations?{query}", "hx-request": "true"}
        for day in days[:taps]:
            form = {
                "personne": str(person), "activite": str(activity), "mois": month,
                "cible": f"jour:{day.isoformat()}", "_csrf_token": token,
            }  # fmt: skip
            await timed(
                figures,
                "tap",
                client.post("/reservations/basculer", data=form, headers=headers),
            )
        recap = await timed(figures, "recap", client.get("/reservations/recapitulatif"))
        if recap is None:
            return
        headers = {"referer": f"{base}/reservations/recapitulatif"}
        confirmed = await timed(
            figures,
            "confirm",
            client.post(
                "/reservations/valider", data={"_csrf_token": csrf_of(recap)}, headers=headers
            ),
            (303,),
        )
        if confirmed is None:
            return
        figures.confirms += 1
        await timed(figures, "result", client.get("/reservations/resultat"), (200,))
        figures.journeys += 1


async def rush(
    base: str, built: dict[str, Any], days: list[date], args: argparse.Namespace
) -> tuple[Figures, float]:
    figures = Figures()
    gate = asyncio.Semaphore(args.concurrency)
    started = clock.perf_counter()
    deadline = started + args.max_seconds

    async def one(n: int, person: int) -> None:
        async with gate:
            if clock.perf_counter() > deadline:
                figures.skipped += 1
                return
            await journey(
                base, n, person, built["activity"], days, args.taps, figures, args.think_ms
            )

    await asyncio.gather(*(one(n, p) for n, p in enumerate(built["people"])))
    return figures, clock.perf_counter() - started


@dataclass
class Burst:
    """The confirm burst: baskets made beforehand, then every parent confirms at once."""

    families: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    cpu: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0


async def prepared_basket(
    base: str, n: int, person: int, activity: int, days: list[date]
) -> tuple[Browser, str] | None:
    """Log family n in and fill its basket with the days (not measured); the client and the
    recap's CSRF token, ready to confirm."""
    client = parent_browser(base, n)
    try:
        page = await client.get("/connexion")
        logged = await client.post(
            "/connexion",
            data={"identifier": f"bench{n}", "password": PASSWORD, "_csrf_token": csrf_of(page)},
            headers={"referer": f"{base}/connexion"},
        )
        if logged.status_code != 303:
            raise HTTPError(f"connexion {logged.status_code}")
        month = f"{days[0].year:04d}-{days[0].month:02d}"
        query = f"personne={person}&activite={activity}&mois={month}"
        token = csrf_of(await client.get(f"/reservations?{query}"))
        headers = {"referer": f"{base}/reservations?{query}", "hx-request": "true"}
        for day in days:
            form = {
                "personne": str(person), "activite": str(activity), "mois": month,
                "cible": f"jour:{day.isoformat()}", "_csrf_token": token,
            }  # fmt: skip
            await client.post("/reservations/basculer", data=form, headers=headers)
        recap = await client.get("/reservations/recapitulatif")
        return client, csrf_of(recap)
    except HTTPError:
        await client.aclose()
        return None


async def confirm_burst(
    base: str,
    built: dict[str, Any],
    days: list[date],
    pids: list[int],
    database: bool,
    args: argparse.Namespace,
) -> Burst:
    """The opening's own moment for the confirm path: B families have their basket ready
    and confirm at the same instant (C at a time); confirms/s is B over the time from the
    release to the last answer, and the web processes' CPU over that window is the
    confirms' alone."""
    burst = Burst()
    count = min(args.burst, len(built["people"]))
    gate = asyncio.Semaphore(args.concurrency)

    async def prepare(n: int) -> tuple[Browser, str] | None:
        async with gate:
            return await prepared_basket(base, n, built["people"][n], built["burst_activity"], days)

    ready = [r for r in await asyncio.gather(*(prepare(n) for n in range(count))) if r]
    burst.families = len(ready)
    go = asyncio.Event()

    async def confirm(client: Browser, token: str) -> None:
        await go.wait()
        async with gate:
            started = clock.perf_counter()
            try:
                answer = await client.post(
                    "/reservations/valider",
                    data={"_csrf_token": token},
                    headers={"referer": f"{base}/reservations/recapitulatif"},
                )
            except HTTPError as exc:
                burst.failures[type(exc).__name__] += 1
                return
            burst.latencies.append(clock.perf_counter() - started)
            burst.statuses[answer.status_code] += 1

    tasks = [asyncio.create_task(confirm(client, token)) for client, token in ready]
    await asyncio.sleep(0.5)  # every task waits on the event
    before = MachineSplit.sample(pids, database=database)
    started = clock.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    burst.elapsed = clock.perf_counter() - started
    used = MachineSplit.sample(pids, database=database).since(before)
    burst.cpu, burst.database_cpu, burst.client_cpu = used.web, used.database, used.generator
    for client, _ in ready:
        await client.aclose()
    return burst


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# --- one set-up ----------------------------------------------------------------------------


async def prepare_database(setup: str, tmp: Path, args: argparse.Namespace) -> str:
    if setup == "sqlite":
        return f"sqlite:///{tmp / 'portal.sqlite3'}"
    name = f"portal_bench_{os.getpid()}"
    connection = await asyncpg.connect(args.postgres)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return f"{args.postgres.rsplit('/', 1)[0]}/{name}"


async def drop_database(url: str, args: argparse.Namespace) -> None:
    if url.startswith("sqlite"):
        return
    connection = await asyncpg.connect(args.postgres)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")
    finally:
        await connection.close()


async def run_setup(setup: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"rush-{setup}-") as tmpdir:
        tmp = Path(tmpdir)
        url = await prepare_database(setup, tmp, args)
        processes: list[subprocess.Popen[bytes]] = []
        try:
            return await _run_setup(setup, args, tmp, url, processes)
        finally:
            stop(processes)
            await drop_database(url, args)


async def _run_setup(
    setup: str,
    args: argparse.Namespace,
    tmp: Path,
    url: str,
    processes: list[subprocess.Popen[bytes]],
) -> dict[str, Any]:
    days = booking_days(args.taps)
    burst_days = booking_days(args.taps, months_later=1)
    capacity = max(1, int(args.families * args.capacity_ratio))
    waitlist = max(0, int(args.families * 0.2))
    settings = Settings.from_env({"PORTAL_DATABASE_URL": url, "PORTAL_VAR_DIR": str(tmp)})
    engine = make_engine(settings)
    await migrate(engine)
    use_engine(engine)
    if setup == "pg":
        await engine.start_connection_pool(min_size=1, max_size=4)  # type: ignore[attr-defined]
    started = clock.perf_counter()
    built = await build(args.families, days, burst_days, capacity, waitlist)
    print(
        f"  {args.families} families built in {clock.perf_counter() - started:.1f} s; "
        f"{len(days)} days of {capacity} places + {waitlist} on the waitlist"
    )
    workers = 2 if setup == "pg" else 1
    ports = [free_port() for _ in range(workers)]
    front = free_port() if setup == "pg" else ports[0]
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_VAR_DIR": str(tmp),
        "PORTAL_SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "PORTAL_BASE_URL": f"http://{HOST}:{front}",
        "PORTAL_KEEPALIVE_SECONDS": "75",
        # The rush measures the booking pages themselves: no waiting room in front of them
        # unless asked for (its capacity's default is derived from these figures).
        "PORTAL_WAITING_ROOM_CAPACITY": os.environ.get("PORTAL_WAITING_ROOM_CAPACITY", "0"),
    }
    env.pop("PORTAL_REDIS_URL", None)
    env.pop("PORTAL_BROKER_URL", None)
    if setup == "pg":
        env["PORTAL_REDIS_URL"] = args.redis
        env["PORTAL_EMBEDDED_WORKER"] = "false"
    for i, port in enumerate(ports):
        processes.append(
            serve(
                env, port, i if args.pin else None, tmp / f"serve-{i}.log",
                access_log=keeps_access_log(setup),
            )
        )  # fmt: skip
    for port in ports:
        await wait_http(f"http://{HOST}:{port}/healthz")
    if setup == "pg":
        processes.append(start_nginx(tmp, front, ports))
        await wait_http(f"http://{HOST}:{front}/healthz")
    server_pids = [p.pid for p in processes[:workers]]
    base = f"http://{HOST}:{front}"
    database = setup == "pg"
    # nginx's worker does the proxying, not its master.
    proxy_pids = pids_named("nginx") if setup == "pg" else []
    split_before = MachineSplit.sample(server_pids, database=database, proxy=proxy_pids)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    figures, elapsed = await rush(base, built, days, args)
    split = MachineSplit.sample(server_pids, database=database, proxy=proxy_pids).since(
        split_before
    )
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    burst = None
    if args.burst:
        burst = await confirm_burst(base, built, burst_days, server_pids, database, args)
    checks = await invariants()
    probe: dict[str, float] = {}
    if args.probe_count:
        base_url = f"http://{HOST}:{ports[0]}"
        probe = await cpu_probe(base_url, env, built, days, processes[0].pid, args)
    board = public = bare = 0.0
    if args.wrk_seconds:
        board, public, bare = await baselines(
            setup, args, tmp, env, built, days, ports[0], processes
        )
    if setup == "pg":
        await engine.close_connection_pool()  # type: ignore[attr-defined]
    return {
        "setup": setup, "figures": figures, "elapsed": elapsed, "cpu": split.web,
        "workers": workers, "checks": checks, "board_rps": board, "public_rps": public,
        "bare_rps": bare,
        "load": (load_before, load_after), "probe": probe, "burst": burst, "split": split,
    }  # fmt: skip


async def logged_in(base: str, env: dict[str, str], login: str) -> Browser:
    client = Browser(base, timeout=60)
    page = await client.get("/connexion")
    answer = await client.post(
        "/connexion",
        data={"identifier": login, "password": PASSWORD, "_csrf_token": csrf_of(page)},
        headers={"referer": f"{env['PORTAL_BASE_URL']}/connexion"},
    )
    if answer.status_code != 303:
        raise RuntimeError(f"connexion de {login} : {answer.status_code}")
    return client


async def cpu_probe(
    base: str,
    env: dict[str, str],
    built: dict[str, Any],
    days: list[date],
    pid: int,
    args: argparse.Namespace,
) -> dict[str, float]:
    """Server CPU per request of one kind: one client, one request at a time, on one web
    process, so that the process's CPU time is that request kind's alone."""
    login = f"bench{len(built['people']) - 1}"
    client = await logged_in(base, env, login)
    person = built["people"][-1]
    month = f"{days[0].year:04d}-{days[0].month:02d}"
    query = f"personne={person}&activite={built['activity']}&mois={month}"
    page = await client.get(f"/reservations?{query}")
    token = csrf_of(page)
    headers = {"referer": f"{env['PORTAL_BASE_URL']}/reservations?{query}", "hx-request": "true"}
    probes: dict[str, float] = {}

    async def measure(kind: str, count: int, call: Any) -> None:
        before = cpu_seconds([pid])
        for i in range(count):
            await call(i)
        probes[kind] = (cpu_seconds([pid]) - before) * 1000 / count

    async def tap(i: int) -> None:
        form = {
            "personne": str(person), "activite": str(built["activity"]), "mois": month,
            "cible": f"jour:{days[i % len(days)].isoformat()}", "_csrf_token": token,
        }  # fmt: skip
        await client.post("/reservations/basculer", data=form, headers=headers)

    async def calendar_page(i: int) -> None:
        await client.get(f"/reservations?{query}")

    async def board(i: int) -> None:
        await client.get(f"/reservations?{query}", headers={"hx-request": "true"})

    async def recap(i: int) -> None:
        await client.get("/reservations/recapitulatif")

    await measure("tap", args.probe_count, tap)
    await measure("calendar", max(10, args.probe_count // 4), calendar_page)
    await measure("board fragment", max(10, args.probe_count // 4), board)
    await measure("recap", max(10, args.probe_count // 4), recap)
    await client.aclose()
    return probes


async def baselines(
    setup: str,
    args: argparse.Namespace,
    tmp: Path,
    env: dict[str, str],
    built: dict[str, Any],
    days: list[date],
    portal_port: int,
    processes: list[subprocess.Popen[bytes]],
) -> tuple[float, float, float]:
    """wrk, 50 connections: the board fragment of one parent on one portal process, a public
    page of that process (the portal's whole middleware stack and a small template, no
    session, no database: the most any page of ours can reach), then a bare Litestar app on
    the same uvicorn settings, one process on the same core."""
    base = f"http://{HOST}:{portal_port}"
    client = await logged_in(base, env, "bench0")
    cookie = client.cookie_header()
    await client.aclose()
    month = f"{days[0].year:04d}-{days[0].month:02d}"
    person = built["people"][0]
    board_url = f"{base}/reservations?personne={person}&activite={built['activity']}&mois={month}"
    headers = {"Cookie": cookie, "HX-Request": "true"}
    board = wrk(board_url, args.wrk_seconds, 50, headers)
    async with Browser() as check:
        # wrk counts a redirect as a success: a session lost on the way (to the login page)
        # would make the figure meaningless.
        status = (await check.get(board_url, headers=headers)).status_code
    if status != 200:
        print(f"    wrk: the board answered {status} after the run; figure discarded")
        board = 0.0
    public = wrk(f"{base}/mentions", args.wrk_seconds, 50, {})
    port = free_port()
    script = tmp / "bare.py"
    # The same access-log setting as the portal process measured (off behind nginx): an
    # access line per request costs the bare app about 40 % of its throughput, so a bare
    # app that logs while the portal does not would flatter the ratio.
    script.write_text(
        textwrap.dedent(BARE_APP).format(
            host=HOST, port=port, keepalive=75, access_log=keeps_access_log(setup)
        )
    )
    bare_process = subprocess.Popen(
        pinned([sys.executable, str(script)], 0 if args.pin else None),
        stdout=(tmp / "bare.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    processes.append(bare_process)
    await wait_http(f"http://{HOST}:{port}/")
    bare = wrk(f"http://{HOST}:{port}/", args.wrk_seconds, 50, {})
    stop([bare_process])
    return board, public, bare


# --- report --------------------------------------------------------------------------------


def machine_lines(split: MachineSplit, elapsed: float, journeys: int) -> list[str]:
    """The machine's CPU during the rush, and what the server side alone costs a journey:
    the load generator shares these cores, so the journeys/s above are the machine's."""
    cores = os.cpu_count() or 1
    lines = [
        f"- machine CPU during the rush: {split.busy:.1f} s busy of {cores * elapsed:.1f} s "
        f"({cores} cores): web {split.web:.1f} s, PostgreSQL {split.database:.1f} s, "
        f"nginx {split.proxy:.1f} s, Redis {split.redis:.1f} s, "
        f"load generator {split.generator:.1f} s"
    ]
    if journeys:
        per_journey = split.server / journeys
        lines.append(
            f"- server side per journey (web, database, proxy, Redis): "
            f"{per_journey * 1000:.0f} ms of CPU, i.e. {cores * 60 / per_journey:.0f} journeys "
            f"a minute on {cores} cores without the load generator (an estimate)"
        )
    return lines


def report(result: dict[str, Any], args: argparse.Namespace) -> str:
    figures: Figures = result["figures"]
    elapsed = result["elapsed"]
    requests = sum(len(v) for v in figures.latencies.values())
    lines = [
        f"### {'PostgreSQL + Redis, 2 web processes behind nginx' if result['setup'] == 'pg' else 'SQLite embedded, 1 process'}",  # noqa: E501
        "",
        f"{args.families} families, {args.concurrency} at a time, {args.taps} taps each, "
        f"{'no pause' if not args.think_ms else f'{args.think_ms} ms mean pause'} between "
        "requests; "
        f"{figures.journeys} journeys completed, {figures.skipped} not started (time bound) "
        f"in {elapsed:.1f} s; load average before/after: "
        f"{' '.join(result['load'][0])} / {' '.join(result['load'][1])}",
        "",
        "| request | count | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind in KINDS:
        values = figures.latencies.get(kind, [])
        lines.append(
            f"| {kind} | {len(values)} | {percentile(values, 0.5) * 1000:.0f} | "
            f"{percentile(values, 0.95) * 1000:.0f} | {percentile(values, 0.99) * 1000:.0f} |"
        )
    cpu_ms = result["cpu"] * 1000 / requests if requests else 0.0
    errors = {
        f"{kind} {status}": count
        for (kind, status), count in sorted(figures.statuses.items())
        if status not in (200, 303)
    }
    errors.update(figures.failures)
    per_core = figures.confirms / elapsed / result["workers"] if elapsed else 0.0
    lines += [
        "",
        f"- requests/s: {requests / elapsed:.1f}; confirms/s: {figures.confirms / elapsed:.1f} "
        f"({per_core:.1f} per web process)",
        f"- server CPU per request (all kinds, web processes): {cpu_ms:.1f} ms "
        f"({result['cpu']:.1f} s of CPU for {requests} requests)",
        *machine_lines(result["split"], elapsed, figures.journeys),
        f"- errors: {errors or 'none'}",
        f"- reservations: {result['checks']['statuses']}",
        f"- invariants: {'hold' if not result['checks']['problems'] else result['checks']['problems']}",  # noqa: E501
    ]
    burst: Burst | None = result["burst"]
    if burst and burst.latencies:
        lat = burst.latencies
        errors = {s: c for s, c in burst.statuses.items() if s != 303} | dict(burst.failures)
        lines.append(
            f"- confirm burst: {burst.families} baskets of {args.taps} days confirmed at once "
            f"({args.concurrency} at a time): {len(lat) / burst.elapsed:.1f} confirms/s "
            f"({len(lat) / burst.elapsed / result['workers']:.1f} per web process), "
            f"p50/p95/p99 {percentile(lat, 0.5) * 1000:.0f}/{percentile(lat, 0.95) * 1000:.0f}/"
            f"{percentile(lat, 0.99) * 1000:.0f} ms, server CPU "
            f"{burst.cpu * 1000 / len(lat):.1f} ms per confirm ("
            + (
                f"PostgreSQL {burst.database_cpu * 1000 / len(lat):.1f} ms, "
                if result["setup"] == "pg"
                else ""
            )
            + f"this load generator {burst.client_cpu * 1000 / len(lat):.1f} ms), "
            f"errors: {errors or 'none'}"
        )
    if result["probe"]:
        lines.append(
            "- server CPU per request, one at a time on one process: "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in result["probe"].items())
        )
    if result["bare_rps"]:
        ratio = result["board_rps"] / result["bare_rps"] * 100
        lines.append(
            f"- wrk 50 connections, one process: month board fragment "
            f"{result['board_rps']:.0f} req/s, bare Litestar {result['bare_rps']:.0f} req/s "
            f"(board = {ratio:.1f} % of bare); a public page through the same stack, no "
            f"session nor database: {result['public_rps']:.0f} req/s "
            f"({result['public_rps'] / result['bare_rps'] * 100:.1f} % of bare)"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> None:
    results = []
    for setup in args.setups.split(","):
        print(f"== {setup}")
        results.append(await run_setup(setup, args))
        print(report(results[-1], args))
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--taps", type=int, default=10, help="days tapped per family (≤ 20)")
    parser.add_argument("--capacity-ratio", type=float, default=0.5,
                        help="places per day as a share of the families")  # fmt: skip
    parser.add_argument("--max-seconds", type=float, default=150,
                        help="no journey starts after this")  # fmt: skip
    parser.add_argument("--wrk-seconds", type=int, default=5, help="0: no wrk baselines")
    parser.add_argument("--probe-count", type=int, default=100,
                        help="requests per kind for the CPU probe (0: no probe)")  # fmt: skip
    parser.add_argument("--burst", type=int, default=200,
                        help="families in the confirm burst (0: none)")  # fmt: skip
    parser.add_argument("--think-ms", type=int, default=0,
                        help="a parent's mean pause before each request (0: none)")  # fmt: skip
    parser.add_argument("--setups", default="pg,sqlite")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                        help="pin each web process to one core (taskset)")  # fmt: skip
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PORTAL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )  # fmt: skip
    parser.add_argument(
        # Not the test suite's database (15): its fixtures flush it, which ended every
        # session of a benchmark running at the same time.
        "--redis",
        default=os.environ.get("PORTAL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
    )
    args = parser.parse_args()
    if not 1 <= args.families <= MAX_FAMILIES:
        parser.error(f"--families: 1..{MAX_FAMILIES}")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency: 1..{MAX_CONCURRENCY}")
    if not 1 <= args.taps <= 20:
        parser.error("--taps: 1..20")
    if not 0 <= args.probe_count <= 1000:
        parser.error("--probe-count: 0..1000")
    if not 0 <= args.think_ms <= 10_000:
        parser.error("--think-ms: 0..10000")
    if not 0 <= args.burst <= MAX_FAMILIES:
        parser.error(f"--burst: 0..{MAX_FAMILIES}")
    for url in (args.postgres, args.redis):
        host = url.split("@")[-1].split("/")[2 if "@" not in url else 0].split(":")[0]
        if host not in ("127.0.0.1", "localhost"):
            parser.error(f"loopback only: {url}")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
