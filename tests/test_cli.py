"""The `portal` command, run as a real process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.conftest import POSTGRES_URL, require_service


def run_portal(
    tmp_path: Path, *args: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "PORTAL_DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_migrate_then_createstaff(tmp_path: Path) -> None:
    migrated = run_portal(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "Base à jour" in migrated.stdout
    assert run_portal(tmp_path, "migrate").returncode == 0  # idempotent
    created = run_portal(
        tmp_path, "createstaff", "agent1", "--password", "Agent-Secret-2026!", "--admin"
    )
    assert created.returncode == 0, created.stderr
    assert "créé (administrateur)" in created.stdout
    duplicate = run_portal(tmp_path, "createstaff", "agent1", "--password", "Agent-Secret-2026!")
    assert duplicate.returncode == 1
    assert "existe déjà" in duplicate.stderr
    weak = run_portal(tmp_path, "createstaff", "agent2", "--password", "court")
    assert weak.returncode == 1 and "caractères" in weak.stderr
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_createstaff_with_roles_and_without_health_access(tmp_path: Path) -> None:
    assert run_portal(tmp_path, "migrate").returncode == 0
    assert run_portal(tmp_path, "demo").returncode == 0
    created = run_portal(
        tmp_path, "createstaff", "regie1", "--password", "Regie-Secret-2026!",
        "--structure", "carteville", "--role", "regisseur", "--role", "direction",
        "--sans-sante",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "créé (régisseur, direction)" in created.stdout
    rows = asyncio.run(_attachments(tmp_path / "cli.sqlite3", "regie1"))
    assert rows == [("direction,regisseur", 0)] or rows == [("regisseur,direction", 0)]
    no_structure = run_portal(
        tmp_path, "createstaff", "regie2", "--password", "Regie-Secret-2026!", "--role", "agent"
    )
    assert no_structure.returncode == 1 and "--structure" in no_structure.stderr
    bad_role = run_portal(
        tmp_path, "createstaff", "regie3", "--password", "Regie-Secret-2026!",
        "--structure", "carteville", "--role", "administrateur",
    )  # fmt: skip
    assert bad_role.returncode == 2 and "argument incorrect" in bad_role.stderr


async def _attachments(path: Path, login: str) -> list[tuple[str, int]]:
    import aiosqlite

    async with aiosqlite.connect(path) as db:
        cursor = await db.execute(
            "SELECT ss.roles, ss.health_access FROM staff_structure ss"
            " JOIN staff_member m ON m.id = ss.staff WHERE m.login = ?",
            (login,),
        )
        return [(str(r[0]), int(r[1])) for r in await cursor.fetchall()]


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    result = run_portal(tmp_path, "migrate", database_url="postgresql://postgres@127.0.0.1:1/nulle")
    assert result.returncode == 3
    assert "base de données injoignable" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_explained(tmp_path: Path) -> None:
    result = run_portal(tmp_path, "serve", "--port", "99999")
    assert result.returncode == 2
    assert "le port doit être entre 1 et 65535" in result.stderr
    unknown = run_portal(tmp_path, "nimporte")
    assert unknown.returncode == 2 and "argument incorrect" in unknown.stderr
    bad_url = run_portal(tmp_path, "migrate", database_url="mysql://x")
    assert bad_url.returncode == 2 and "PORTAL_DATABASE_URL" in bad_url.stderr


def test_migrate_on_postgresql(tmp_path: Path) -> None:
    require_service("PostgreSQL", POSTGRES_URL, 5432)

    async def recreate() -> None:
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            await connection.execute("DROP DATABASE IF EXISTS portal_cli_test")
            await connection.execute("CREATE DATABASE portal_cli_test")
        finally:
            await connection.close()

    asyncio.run(recreate())
    target = POSTGRES_URL.rsplit("/", 1)[0] + "/portal_cli_test"
    result = run_portal(tmp_path, "migrate", database_url=target)
    assert result.returncode == 0, result.stderr
    expected = len(list((Path(__file__).parents[1] / "migrations").glob("portal_*.py")))
    assert f"{expected} migration(s)" in result.stdout
