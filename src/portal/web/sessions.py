"""Server-side sessions: id renewed at login (no fixation), and an index per account.

Each logged-in session is listed under its owner (`index:parent:<account id>` or
`index:staff:<staff id>`) in the session store itself (Redis or the file store), so that the
profile can show an account's sessions and end one, and a password change can delete the
others. What makes an old session unusable after a change is not the index but the
account's `session_epoch`, checked on every request (web/context.py, pages/staff/common.py):
a session whose index entry was lost to a race still dies.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

from portal import clock
from portal.domain.accounts.rules import describe_device
from portal.web.redis_store import DeadlineRedisStore

ROTATE_FLAG = "portal.rotate_session"
NEW_ID = "portal.new_session_id"
LOADED_FLAG = "portal.session_loaded"
LOADED_DATA = "portal.session_loaded_data"
# The last activity is recorded to the minute: a session whose data did not change is not
# written back (no store write, no cookie), so that a parent reading pages costs one store
# read per request; the idle limit is in minutes anyway.
SEEN_STEP_SECONDS = 60
INDEX_PREFIX = "index"
# Kept in the index per account; older entries fall off (their sessions still expire).
INDEX_LIMIT = 50


def request_session_rotation(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Ask for a new session id on the way out (the old id's data is deleted)."""
    connection.scope["state"][ROTATE_FLAG] = True


def mark_seen(session: dict[str, Any], now: float) -> None:
    """Record the session's last activity, at most once a minute (see SEEN_STEP_SECONDS)."""
    if now - float(session.get("seen_at", 0)) >= SEEN_STEP_SECONDS:
        session["seen_at"] = now


def start_session(
    connection: ASGIConnection[Any, Any, Any, Any],
    owner_key: str,
    owner_id: int,
    epoch: int,
    **extra: Any,
) -> None:
    """A fresh session under a new id (`owner_key`: "account_id", "staff_id", or
    "mfa_pending" between a staff password and its second factor)."""
    now = time.time()
    connection.set_session(
        {
            owner_key: owner_id,
            "epoch": epoch,
            "started_at": now,
            "seen_at": now,
            "user_agent": connection.headers.get("user-agent", "")[:300],
            **extra,
        }
    )
    request_session_rotation(connection)


def owner_of(session: dict[str, Any]) -> tuple[str, int] | None:
    """("parent", account id) or ("staff", staff id) of a logged-in session."""
    for kind, key in (("parent", "account_id"), ("staff", "staff_id")):
        value = session.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return kind, value
    return None


def handle_of(session_id: str) -> str:
    """A public name for a session: never the id itself, which is a bearer secret."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:20]


def _index_key(kind: str, owner_id: int) -> str:
    return f"{INDEX_PREFIX}:{kind}:{owner_id}"


async def _index(store: Store, kind: str, owner_id: int) -> list[str]:
    raw = await store.get(_index_key(kind, owner_id))
    if not raw:
        return []
    try:
        ids = json.loads(raw)
    except ValueError:
        return []
    return [str(i) for i in ids if isinstance(i, str)]


async def _save_index(store: Store, kind: str, owner_id: int, ids: list[str], ttl: int) -> None:
    key = _index_key(kind, owner_id)
    if ids:
        await store.set(key, json.dumps(ids[-INDEX_LIMIT:]), expires_in=ttl)
    else:
        await store.delete(key)


OTHERS_CLOSED = "Vos autres sessions ont été fermées."


@dataclass(frozen=True)
class SessionInfo:
    handle: str
    user_agent: str
    started_at: float
    seen_at: float
    current: bool


async def _stored(store: Store, session_id: str) -> dict[str, Any] | None:
    raw = await store.get(session_id)
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def _live(store: Store, session_id: str, kind: str, owner_id: int) -> dict[str, Any] | None:
    data = await _stored(store, session_id)
    return data if data is not None and owner_of(data) == (kind, owner_id) else None


async def parent_holder(store: Store, session_id: str) -> str | None:
    """ "parent:<account id>" for a parent's logged-in session, else None: what the waiting
    room counts, so that one account on several devices holds one place."""
    data = await _stored(store, session_id)
    owner = None if data is None else owner_of(data)
    return f"parent:{owner[1]}" if owner is not None and owner[0] == "parent" else None


async def list_sessions(
    store: Store, kind: str, owner_id: int, current_id: str | None, ttl: int
) -> list[SessionInfo]:
    """The owner's live sessions, most recently seen first (dead index entries pruned)."""
    found: list[SessionInfo] = []
    alive: list[str] = []
    for session_id in await _index(store, kind, owner_id):
        data = await _live(store, session_id, kind, owner_id)
        if data is None:
            continue
        alive.append(session_id)
        found.append(
            SessionInfo(
                handle=handle_of(session_id),
                user_agent=str(data.get("user_agent", "")),
                started_at=float(data.get("started_at", 0)),
                seen_at=float(data.get("seen_at", 0)),
                current=session_id == current_id,
            )
        )
    await _save_index(store, kind, owner_id, alive, ttl)
    return sorted(found, key=lambda s: (not s.current, -s.seen_at))


def session_rows(sessions: list[SessionInfo], tz_name: str) -> list[dict[str, Any]]:
    """What the profile shows of each session: device, start and last activity, local time."""
    tz = clock.zone(tz_name)

    def local(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).astimezone(tz).strftime("%d/%m/%Y à %H:%M")

    return [
        {
            "handle": s.handle,
            "device": describe_device(s.user_agent),
            "started": local(s.started_at),
            "seen": local(s.seen_at),
            "current": s.current,
        }
        for s in sessions
    ]


async def end_session(store: Store, kind: str, owner_id: int, handle: str, ttl: int) -> bool:
    """End one of the owner's sessions by its handle; whether there was one."""
    ids = await _index(store, kind, owner_id)
    target = next((i for i in ids if handle_of(i) == handle), None)
    if target is None:
        return False
    await store.delete(target)
    await _save_index(store, kind, owner_id, [i for i in ids if i != target], ttl)
    return True


async def end_other_sessions(
    store: Store, kind: str, owner_id: int, keep: str | None, ttl: int
) -> int:
    """Delete every indexed session of the owner but `keep`; how many were deleted."""
    ids = await _index(store, kind, owner_id)
    ended = 0
    for session_id in ids:
        if session_id != keep:
            await store.delete(session_id)
            ended += 1
    await _save_index(store, kind, owner_id, [i for i in ids if i == keep], ttl)
    return ended


def session_store(connection: ASGIConnection[Any, Any, Any, Any]) -> Store:
    return connection.app.stores.get("sessions")


def session_ttl(connection: ASGIConnection[Any, Any, Any, Any]) -> int:
    return int(connection.app.state.settings.session_max_seconds)


async def keep_after_password_change(
    connection: ASGIConnection[Any, Any, Any, Any], kind: str, owner_id: int, epoch: int
) -> int:
    """Carry the current session over a password change, under a new id; end the others.

    Returns how many other sessions were deleted from the store (the new epoch already
    refuses them, indexed or not).
    """
    current = connection.cookies.get("portal_session")
    ended = await end_other_sessions(
        session_store(connection), kind, owner_id, current, session_ttl(connection)
    )
    connection.session["epoch"] = epoch
    request_session_rotation(connection)
    return ended


class RotatingSessionBackend(ServerSideSessionBackend):
    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        if not connection.cookies.get(self.config.key):
            # The session is written on the way out, after the response has started, when an
            # outage can only end in a broken reply; touching the store now lets the error
            # page say clearly that the service is unavailable.
            store = self.config.get_store_from_app(connection.scope["app"])
            await store.exists("portal:availability")
        data = await super().load_from_connection(connection)
        if data:
            connection.scope["state"][LOADED_FLAG] = True
            connection.scope["state"][LOADED_DATA] = self.serialize_data(data)
        return data

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        new_id = connection.scope["state"].get(NEW_ID)
        return str(new_id) if new_id else super().get_session_id(connection)

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        state = connection.scope["state"]
        store = self.config.get_store_from_app(connection.scope["app"])
        if not state.get(LOADED_FLAG) and not state.get(ROTATE_FLAG) and not scope_session:
            # Nothing to keep for a visitor who had no session: no store write, no cookie
            # (the CSRF binding of anonymous forms is its own cookie). Litestar's backend
            # stored an empty session under a new id for every such request: one store key
            # per crawler hit or cookie-less client, kept for the session's whole lifetime.
            if connection.cookies.get(self.config.key) not in (None, "", "null"):
                # A cookie whose session is gone (or was stored empty): clear both. The
                # cleared cookie reads "null" (Litestar's), which is left alone.
                await super().store_in_message(Empty, message, connection)
            return
        ttl = int(self.config.max_age)
        rotated = False
        # Serialised once: compared with what was loaded, then written as is.
        data = self.serialize_data(scope_session) if isinstance(scope_session, dict) else None
        if state.get(ROTATE_FLAG) and scope_session is not Empty:
            old_id = connection.cookies.get(self.config.key)
            if old_id:
                await self.delete(old_id, store=store)
            state[NEW_ID] = self.generate_session_id()
            state[ROTATE_FLAG] = False
            rotated = True
        elif state.get(LOADED_FLAG) and data is not None and data == state.get(LOADED_DATA):
            # Unchanged: the stored copy and the browser's cookie are still right (both are
            # refreshed within a minute of activity, when seen_at moves).
            return
        elif state.get(LOADED_FLAG) and scope_session is not Empty:
            # Ended elsewhere (another device's "Déconnecter", a password change) while this
            # request ran: do not write it back to life.
            session_id = self.get_session_id(connection)
            if isinstance(store, DeadlineRedisStore) and data is not None:
                # Redis checks and writes in one command (SET ... XX): a tap writes its
                # basket back on every request.
                if await store.replace(session_id, data, ttl):
                    self._send_cookie(message, session_id)
                    return
                scope_session = Empty
            elif not await store.exists(session_id):
                scope_session = Empty
        if scope_session is not Empty and isinstance(scope_session, dict):
            owner = owner_of(scope_session)
            if rotated and owner is not None:
                ids = await _index(store, *owner)
                await _save_index(store, *owner, [*ids, str(state[NEW_ID])], ttl)
        await super().store_in_message(scope_session, message, connection)

    def _send_cookie(self, message: Message, session_id: str) -> None:
        """The session cookie, as Litestar's backend sets it after a write."""
        params = extract_dataclass_items(
            self.config, exclude_none=True, include=set(Cookie.__dict__.keys())
        )
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie",
            Cookie(value=session_id, key=self.config.key, **dict(params)).to_header(header=""),
        )


class PortalSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
