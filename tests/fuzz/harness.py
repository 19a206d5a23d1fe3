"""What the fuzz suite needs: the app's routes, a writes counter, sessions per role.

Routes come from the Litestar app itself (``app.routes``), so that a route added by anyone
is fuzzed without touching this suite. Each handler is fuzzed in the role its dependencies
ask for: ``parent`` (a logged-in parent), ``member`` (a logged-in agent), else anonymous.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.stores.base import Store
from piccolo.engine.base import Engine

from portal.tables import ALL_TABLES
from portal.web.csrf import SESSION_KEY, make_token

TEMPLATES = Path(__file__).parents[2] / "src" / "portal" / "templates"
# Handler parameters that are not query parameters.
NOT_QUERY = {"request", "scope", "state", "data", "parent", "member", "socket", "headers"}
SKIPPED_METHODS = {"OPTIONS", "HEAD"}


@dataclass(frozen=True)
class Target:
    """One handler of one route, as the fuzz suite calls it."""

    method: str
    path: str  # Litestar's template: /gestion/s/{sid:int}
    path_params: tuple[tuple[str, str, str], ...]  # (name, type: int, str, Path; "sid:int")
    query_names: tuple[str, ...]
    role: str  # "parent", "staff" or "anonymous"

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def targets(app: Litestar) -> list[Target]:
    """Every HTTP handler of the app (mounted third-party apps such as the admin aside)."""
    found: list[Target] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        params = tuple(
            (name, getattr(definition.type, "__name__", "str"), definition.full)
            for name, definition in route.path_parameters.items()
        )
        for handler in route.route_handlers:
            signature = set(handler.parsed_fn_signature.parameters)
            role = (
                "parent"
                if "parent" in signature
                else "staff"
                if "member" in signature
                else ("anonymous")
            )
            query = tuple(sorted(signature - NOT_QUERY - {name for name, _, _ in params}))
            for method in sorted(handler.http_methods - SKIPPED_METHODS):
                found.append(Target(method, route.path, params, query, role))
    return sorted(found, key=lambda t: (t.path, t.method))


def form_field_names() -> list[str]:
    """Every field name the templates' forms use (``{{ ... }}`` parts made concrete)."""
    names: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        for raw in re.findall(r'name="([^"]+)"', template.read_text(encoding="utf-8")):
            name = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "1", raw)
            if re.fullmatch(r"[\w.\-\[\]]{1,60}", name) and name != "_csrf_token":
                names.add(name)
    return sorted(names)


# --- every write to any table, counted by triggers ------------------------------------------

COUNTER = "fuzz_writes"


async def install_write_counter(engine: Engine[Any], kind: str) -> None:
    await engine.run_ddl(
        f"CREATE TABLE IF NOT EXISTS {COUNTER} (name VARCHAR(100) PRIMARY KEY, n BIGINT NOT NULL)"
    )
    if kind == "postgresql":
        await engine.run_ddl(
            f"""CREATE OR REPLACE FUNCTION {COUNTER}_count() RETURNS trigger AS $$
            BEGIN
              INSERT INTO {COUNTER} (name, n) VALUES (TG_TABLE_NAME, 1)
              ON CONFLICT (name) DO UPDATE SET n = {COUNTER}.n + 1;
              RETURN NULL;
            END $$ LANGUAGE plpgsql"""
        )
    for table in ALL_TABLES:
        name = table._meta.tablename
        if kind == "postgresql":
            await engine.run_ddl(
                f"CREATE TRIGGER {COUNTER}_{name} AFTER INSERT OR UPDATE OR DELETE ON {name} "
                f"FOR EACH ROW EXECUTE FUNCTION {COUNTER}_count()"
            )
            continue
        for event in ("INSERT", "UPDATE", "DELETE"):
            await engine.run_ddl(
                f"CREATE TRIGGER {COUNTER}_{name}_{event.lower()} AFTER {event} ON {name} "
                f"BEGIN INSERT INTO {COUNTER} (name, n) VALUES ('{name}', 1) "
                f"ON CONFLICT (name) DO UPDATE SET n = n + 1; END"
            )


async def remove_write_counter(engine: Engine[Any], kind: str) -> None:
    for table in ALL_TABLES:
        name = table._meta.tablename
        if kind == "postgresql":
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {COUNTER}_{name} ON {name}")
            continue
        for event in ("insert", "update", "delete"):
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {COUNTER}_{name}_{event}")
    await engine.run_ddl(f"DROP TABLE IF EXISTS {COUNTER}")
    if kind == "postgresql":
        await engine.run_ddl(f"DROP FUNCTION IF EXISTS {COUNTER}_count()")


async def writes(engine: Engine[Any]) -> dict[str, int]:
    rows = await engine.run_ddl(f"SELECT name, n FROM {COUNTER}")
    return {str(r["name"]): int(r["n"]) for r in rows or []}


# --- sessions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """A logged-in session to clone for each example (no login per example)."""

    name: str
    raw_session: bytes | None  # None: anonymous


async def fresh_session(
    store: Store, role: Role, secret_key: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Cookies and headers of a new browser in this role, with a valid CSRF token."""
    csrf_cookie = secrets.token_hex(32)
    cookies = {"portal_csrf": csrf_cookie}
    binding = "cookie:" + csrf_cookie
    if role.raw_session is not None:
        session_id = secrets.token_hex(16)
        await store.set(session_id, role.raw_session, expires_in=3600)
        cookies["portal_session"] = session_id
        binding = "session:" + json.loads(role.raw_session)[SESSION_KEY]
    return cookies, {"x-csrftoken": make_token(secret_key.encode(), binding)}
