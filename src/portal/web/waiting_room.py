"""The waiting room of the booking pages: when more parents are active on them than the
installation is set to serve (PORTAL_WAITING_ROOM_CAPACITY), new arrivals get a light
static page, served before the session or the database is touched, with their place in
the queue and an estimate; they are let in in order.

- Active: a session (its cookie, hashed) that reached a booking page within the last
  ACTIVE_SECONDS. Counted in Redis (a sorted set by last visit, shared by every web
  process) when configured, else in the process's memory.
- The queue is a bakery's: each new arrival beyond capacity takes a ticket (a number from
  a counter, kept in a signed cookie); ``serving`` is the highest ticket let in. A ticket
  is let in when it is at most ``serving``, or when its distance to ``serving`` fits in
  the free places; then ``serving`` moves up to it. So a lower ticket is never kept
  waiting while a higher one is let in; an abandoned ticket only lets the next ones in
  sooner.
- The page reloads itself (static/waiting-room.js, no inline script) every few seconds.
  When a booking period is collecting requests (draw or priorities), the page says that
  arriving first gives no advantage; that flag is read from the database in the
  background at most once a minute, never while serving the page.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any, Protocol

from litestar.types import ASGIApp, Receive, Scope, Send

from portal.web.redis_store import DEADLINE_SECONDS

log = logging.getLogger(__name__)

ACTIVE_SECONDS = 120
REFRESH_SECONDS = 10
TICKET_COOKIE = "portal_queue"
SESSION_COOKIE = "portal_session"
GATED_PREFIXES = ("/reservations",)
WINDOW_CHECK_SECONDS = 60


class Backend(Protocol):
    async def touch(self, member: str, now: float) -> int:
        """Mark a session active; returns how many are active (expired ones dropped)."""

    async def is_active(self, member: str, now: float) -> bool: ...

    async def active_count(self, now: float) -> int: ...

    async def next_ticket(self) -> int: ...

    async def serving(self) -> int: ...

    async def serve_up_to(self, ticket: int) -> None: ...


@dataclass
class MemoryBackend:
    """One process's own count (the embedded default: one web process)."""

    active: dict[str, float] = field(default_factory=dict)
    issued: int = 0
    served: int = 0

    def _expire(self, now: float) -> None:
        limit = now - ACTIVE_SECONDS
        for member in [m for m, seen in self.active.items() if seen < limit]:
            del self.active[member]

    async def touch(self, member: str, now: float) -> int:
        self._expire(now)
        self.active[member] = now
        return len(self.active)

    async def is_active(self, member: str, now: float) -> bool:
        seen = self.active.get(member)
        return seen is not None and seen >= now - ACTIVE_SECONDS

    async def active_count(self, now: float) -> int:
        self._expire(now)
        return len(self.active)

    async def next_ticket(self) -> int:
        self.issued += 1
        return self.issued

    async def serving(self) -> int:
        return self.served

    async def serve_up_to(self, ticket: int) -> None:
        self.served = max(self.served, ticket)


class RedisBackend:
    """Shared by every web process: a sorted set of active sessions, two counters."""

    def __init__(self, url: str, namespace: str = "portal:waiting") -> None:
        from redis.asyncio import Redis

        # Bounded per decision, not per socket operation (see portal.web.redis_store).
        self.redis = Redis.from_url(
            url, socket_timeout=None, socket_connect_timeout=DEADLINE_SECONDS
        )
        self.active_key = f"{namespace}:active"
        self.issued_key = f"{namespace}:issued"
        self.serving_key = f"{namespace}:serving"

    async def touch(self, member: str, now: float) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(self.active_key, "-inf", now - ACTIVE_SECONDS)
            pipe.zadd(self.active_key, {member: now})
            pipe.zcard(self.active_key)
            pipe.expire(self.active_key, ACTIVE_SECONDS * 2)
            result = await pipe.execute()
        return int(result[2])

    async def is_active(self, member: str, now: float) -> bool:
        seen = await self.redis.zscore(self.active_key, member)
        return seen is not None and float(seen) >= now - ACTIVE_SECONDS

    async def active_count(self, now: float) -> int:
        return int(await self.redis.zcount(self.active_key, now - ACTIVE_SECONDS, "+inf"))

    async def next_ticket(self) -> int:
        return int(await self.redis.incr(self.issued_key))

    async def serving(self) -> int:
        return int(await self.redis.get(self.serving_key) or 0)

    async def serve_up_to(self, ticket: int) -> None:
        # Never backwards, whatever the order two processes write in.
        await self.redis.eval(
            "local v = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1]) end return 0",
            1,
            self.serving_key,
            str(ticket),
        )


# --- tickets -------------------------------------------------------------------------


def sign_ticket(secret: str, ticket: int) -> str:
    mac = hmac.new(secret.encode(), f"ticket:{ticket}".encode(), hashlib.sha256).hexdigest()
    return f"{ticket}.{mac[:32]}"


def read_ticket(secret: str, value: str | None) -> int | None:
    """The ticket number of a cookie this installation signed, else None."""
    if not value or len(value) > 80:
        return None
    number, _, mac = value.partition(".")
    if not number.isdigit() or len(number) > 12:
        return None
    expected = sign_ticket(secret, int(number)).partition(".")[2]
    return int(number) if hmac.compare_digest(mac, expected) else None


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    position: int = 0
    ticket: int | None = None
    new_ticket: bool = False


def estimate_minutes(position: int, capacity: int) -> int:
    """A rough wait: each place frees about once per ACTIVE_SECONDS."""
    return max(1, math.ceil(position * ACTIVE_SECONDS / max(capacity, 1) / 60))


class WaitingRoom:
    def __init__(
        self,
        backend: Backend,
        capacity: int,
        secret: str,
        window_open: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.backend = backend
        self.capacity = capacity
        self.secret = secret
        self._window_open = window_open
        self.window_note = False
        self._window_checked = 0.0
        self._window_task: asyncio.Task[None] | None = None

    async def decide(self, member: str, ticket: int | None, now: float) -> Verdict:
        """Let this session in, or give (or keep) its place in the queue."""
        if await self.backend.is_active(member, now):
            await self.backend.touch(member, now)
            return Verdict(True)
        active = await self.backend.active_count(now)
        serving = await self.backend.serving()
        free = self.capacity - active
        if ticket is None:
            if free > 0 and serving >= await self._issued_hint():
                await self.backend.touch(member, now)
                return Verdict(True)
            ticket = await self.backend.next_ticket()
            new = True
        else:
            new = False
        if ticket <= serving or (free > 0 and ticket - serving <= free):
            await self.backend.serve_up_to(ticket)
            await self.backend.touch(member, now)
            return Verdict(True, ticket=ticket)
        return Verdict(False, position=max(1, ticket - serving), ticket=ticket, new_ticket=new)

    async def _issued_hint(self) -> int:
        """Without a ticket, one may walk in only while nobody is queueing (tickets all
        served); the issued counter is read through the backend's own next value."""
        backend = self.backend
        if isinstance(backend, MemoryBackend):
            return backend.issued
        if isinstance(backend, RedisBackend):
            return int(await backend.redis.get(backend.issued_key) or 0)
        return 0

    def refresh_window_note(self, now: float) -> None:
        """Read in the background (at most once a minute) whether a window is open."""
        if self._window_open is None or now - self._window_checked < WINDOW_CHECK_SECONDS:
            return
        if self._window_task is not None and not self._window_task.done():
            return
        self._window_checked = now

        async def check() -> None:
            assert self._window_open is not None
            try:
                self.window_note = await self._window_open()
            except Exception:  # the database may be down: keep the last answer
                log.warning("salle d'attente : état des périodes illisible", exc_info=True)

        self._window_task = asyncio.get_running_loop().create_task(check())


def waiting_page(position: int, minutes: int, window_note: bool) -> bytes:
    fairness = (
        "<p>Une période de demandes est en cours : toutes les demandes validées pendant "
        "cette période sont attribuées ensemble à sa fin, par tirage au sort ou par "
        "priorités. <strong>Arriver le premier ne donne aucun avantage</strong> : inutile "
        "de rester devant l'écran.</p>"
        if window_note
        else ""
    )
    html = f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Salle d'attente · Portail Famille</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/static/waiting-room.js" defer></script>
</head>
<body>
<main class="page waiting-room" id="salle-attente" data-refresh-seconds="{REFRESH_SECONDS}">
<h1 class="page-title">Salle d'attente</h1>
<p class="lead">Beaucoup de familles réservent en ce moment. Pour que le portail reste rapide
pour tous, nous vous faisons entrer dans l'ordre d'arrivée.</p>
<p class="notice notice--info" role="status" aria-live="polite">Votre place dans la file :
<strong id="position">{escape(str(position))}</strong>. Attente estimée : environ
<strong>{escape(str(minutes))} minute{"s" if minutes > 1 else ""}</strong>.</p>
{fairness}
<p>Gardez cette page ouverte : elle se met à jour toute seule et vous fait entrer dès que
c'est votre tour. Votre panier et vos réservations ne sont pas perdus.</p>
<p><a class="button button--secondary" href="">Actualiser maintenant</a></p>
</main>
</body>
</html>
"""
    return html.encode()


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


def _is_htmx(scope: Scope) -> bool:
    return any(k == b"hx-request" for k, _ in scope.get("headers", []))


def waiting_room_middleware(app: ASGIApp, room: WaitingRoom, secure: bool) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(GATED_PREFIXES):  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        session = _cookie(scope, SESSION_COOKIE)
        if not session:  # not logged in: the page sends to the login
            await app(scope, receive, send)
            return
        now = time.time()
        member = hashlib.sha256(session.encode("latin-1")).hexdigest()[:32]
        ticket = read_ticket(room.secret, _cookie(scope, TICKET_COOKIE))
        try:
            async with asyncio.timeout(DEADLINE_SECONDS):
                verdict = await room.decide(member, ticket, now)
        except Exception:  # the counter's store is down: never keep parents out for it
            log.warning("salle d'attente : compteur indisponible", exc_info=True)
            await app(scope, receive, send)
            return
        if verdict.admitted:
            await app(scope, receive, send)
            return
        room.refresh_window_note(now)
        minutes = estimate_minutes(verdict.position, room.capacity)
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"retry-after", str(REFRESH_SECONDS).encode()),
            (b"cache-control", b"no-store"),
        ]
        if verdict.new_ticket and verdict.ticket is not None:
            attributes = "; Path=/; HttpOnly; SameSite=Lax; Max-Age=7200"
            cookie = f"{TICKET_COOKIE}={sign_ticket(room.secret, verdict.ticket)}{attributes}"
            headers.append((b"set-cookie", (cookie + ("; Secure" if secure else "")).encode()))
        if _is_htmx(scope):
            # A fragment cannot hold the waiting page: the browser goes to the full page.
            headers.append((b"hx-redirect", b"/reservations"))
        body = waiting_page(verdict.position, minutes, room.window_note)
        start: Any = {"type": "http.response.start", "status": 200, "headers": headers}
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return middleware


def room_for(settings: Any) -> WaitingRoom | None:
    """The installation's waiting room (None when the capacity is 0: no waiting room)."""
    capacity = int(settings.waiting_room_capacity)
    if capacity <= 0:
        return None
    backend: Backend = RedisBackend(settings.redis_url) if settings.redis_url else MemoryBackend()

    async def window_open() -> bool:
        from portal.domain.booking.opening import any_window_open

        return await any_window_open()

    return WaitingRoom(backend, capacity, settings.secret_key, window_open)
