"""Applying the migrations in migrations/ to the current engine."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine

from portal.db import use_engine


class MigrationFailed(RuntimeError):
    """A migration did not apply."""


async def migrate(engine: Engine[Any], *, quiet: bool = True) -> str:
    """Bring the schema of ``engine`` up to date; returns Piccolo's report."""
    use_engine(engine)
    if isinstance(engine, SQLiteEngine):
        # WAL lets readers go on while one writer holds the lock.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    output = io.StringIO()
    with contextlib.redirect_stdout(output) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="portal")
    if not result.success:
        raise MigrationFailed(result.message)
    return output.getvalue()
