"""The staff dashboard and decisions page as the waiting requests grow.

Builds the test world (two families, an activity needing decisions), adds N pending
requests (bulk SQL), and times over real HTTP (uvicorn in this process) the dashboard and
the decisions page of a logged-in agent: median of the requests, bytes of the page, number
of request rows on it, and the same with a small N as the baseline (flat means a ratio
near 1).

    .venv/bin/python bench/staff_pages.py                   # SQLite, 100 then 10,000
    .venv/bin/python bench/staff_pages.py --database postgresql://postgres@127.0.0.1:5432/
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from tests.conftest import Database, make_settings
from tests.factories import add_pending, make_staff, make_world
from tests.web.conftest import Browser, LiveServer
from tests.web.staff.conftest import staff_login

from portal.db import make_engine
from portal.migrate import migrate
from portal.tables import ALL_TABLES

REPEAT = 15


async def _reset() -> None:
    for table in reversed(ALL_TABLES):
        await table.delete(force=True)


async def _time(browser: Browser, url: str) -> tuple[float, int, int]:
    await browser.get(url)  # warm
    samples = []
    body = ""
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = await browser.get(url)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
        body = response.text
    rows = len(re.findall(r'<li id="demande-\d+"', body))
    return statistics.median(samples), len(body.encode()), rows


async def measure(database: Database, tmp: Path, pending: int) -> dict[str, tuple[Any, ...]]:
    await _reset()
    world = await make_world()
    await make_staff("agent-a", world.structure)
    await add_pending(world, pending)
    settings = make_settings(tmp, database.url)
    figures = {}
    async with (
        LiveServer(settings, database) as live,
        Browser(base_url=live.url, follow_redirects=False, timeout=60) as browser,
    ):
        await staff_login(browser, "agent-a")
        base = f"/gestion/s/{world.sid}"
        figures["dashboard"] = await _time(browser, base)
        figures["decisions"] = await _time(browser, f"{base}/decisions")
        figures["decisions, last page"] = await _time(browser, f"{base}/decisions?page=1000000")
    return figures


async def run(server_url: str | None, small: int, large: int) -> None:
    import asyncpg

    name = f"portal_bench_staff_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        if server_url:
            admin = await asyncpg.connect(server_url)
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.execute(f"CREATE DATABASE {name}")
            await admin.close()
            from urllib.parse import urlsplit

            url = urlsplit(server_url)._replace(path=f"/{name}").geturl()
        else:
            url = f"sqlite:///{Path(tmp) / 'staff.sqlite3'}"
        engine = make_engine(make_settings(Path(tmp), url))
        try:
            await migrate(engine)
            if isinstance(engine, PostgresEngine):
                await engine.start_connection_pool(max_size=10)
            database = Database("postgresql" if server_url else "sqlite", engine, url)
            results = {n: await measure(database, Path(tmp), n) for n in (small, large)}
        finally:
            if isinstance(engine, PostgresEngine):
                await engine.close_connection_pool()
            if server_url:
                admin = await asyncpg.connect(server_url)
                await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                await admin.close()
    print(f"engine: {'postgresql' if server_url else 'sqlite'}; load: {_load_average()}")
    for page in results[small]:
        (t_small, b_small, r_small), (t_large, b_large, r_large) = (
            results[small][page],
            results[large][page],
        )
        print(
            f"{page}: {small} pending {t_small * 1000:.0f} ms, {b_small / 1024:.0f} KB, "
            f"{r_small} rows | {large} pending {t_large * 1000:.0f} ms, "
            f"{b_large / 1024:.0f} KB, {r_large} rows | ratio {t_large / t_small:.2f}"
        )


def _load_average() -> str:
    return Path("/proc/loadavg").read_text().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--database", default=None, help="a PostgreSQL server URL")
    args = parser.parse_args()
    asyncio.run(run(args.database, args.small, args.pending))


if __name__ == "__main__":
    main()
