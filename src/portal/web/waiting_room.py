"""The waiting room of the booking pages: when more parents are active on them than the
installation is set to serve (PORTAL_WAITING_ROOM_CAPACITY), new arrivals get a light
static page, served before the session is loaded or the database touched (a new arrival
costs one lookup in the session store), with their place in the queue and an estimate;
they are let in in order.

- Active: a session (its cookie, hashed) that reached a booking page within the last
  ACTIVE_SECONDS. Counted in Redis (a sorted set by last visit, shared by every web
  process) when configured, else in the process's memory.
- The queue is a bakery's: each new arrival beyond capacity takes a ticket (a number from
  a counter, kept in a cookie signed for its session); ``serving`` is the highest ticket
  called. Whenever places are free, the next tickets are called in order, as many as there
  are free places, and each called ticket keeps its place for GRACE_SECONDS (the waiting
  page reloads every REFRESH_SECONDS); a holder who comes back with a ticket at most
  ``serving`` is let in. So a lower ticket is never kept waiting while a higher one is let
  in, and a parent who closed the waiting page only holds a place for the grace period:
  the queue never stalls behind abandoned tickets.
- Only sessions the session store knows take a place or a ticket: a made-up cookie is sent
  on to the page, which sends it to the login.
- The counters expire a day after their last move (Redis), so one opening's queue does
  not outlive it.
- The page reloads itself (static/waiting-room.js, no inline script) every few seconds.
  When a booking period is collecting requests (draw or priorities), the page says that
  arriving first gives no advantage; that flag is read from the database in the
  background at most once a minute, never while serving the page.
"""

from __future__ import annotations

import asyncio
import functools
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
# A called ticket keeps its place this long for its holder to come back (three reloads).
GRACE_SECONDS = 3 * REFRESH_SECONDS
COUNTERS_TTL_SECONDS = 24 * 3600
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

    async def counters(self) -> tuple[int, int]:
        """(the last ticket issued, the last ticket called)."""

    async def call_next(self, places: int, now: float) -> int:
        """Call up to `places` more tickets in order, never beyond the last issued; each
        keeps a place until its holder comes back or GRACE_SECONDS pass. Returns the last
        ticket called."""

    async def called_count(self, now: float) -> int:
        """Called tickets whose holder has not come back, within their grace."""

    async def redeem(self, ticket: int) -> None:
        """The holder came back: its place is now counted as active."""


@dataclass
class MemoryBackend:
    """One process's own count (the embedded default: one web process)."""

    active: dict[str, float] = field(default_factory=dict)
    issued: int = 0
    served: int = 0
    called: dict[int, float] = field(default_factory=dict)

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

    async def counters(self) -> tuple[int, int]:
        return self.issued, self.served

    async def call_next(self, places: int, now: float) -> int:
        target = min(self.issued, self.served + places)
        for ticket in range(self.served + 1, target + 1):
            self.called[ticket] = now
        self.served = max(self.served, target)
        return self.served

    async def called_count(self, now: float) -> int:
        limit = now - GRACE_SECONDS
        for ticket in [t for t, at in self.called.items() if at < limit]:
            del self.called[ticket]
        return len(self.called)

    async def redeem(self, ticket: int) -> None:
        self.called.pop(ticket, None)


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
        self.called_key = f"{namespace}:called"

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
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self.issued_key)
            pipe.expire(self.issued_key, COUNTERS_TTL_SECONDS)
            result = await pipe.execute()
        return int(result[0])

    async def counters(self) -> tuple[int, int]:
        issued, serving = await self.redis.mget(self.issued_key, self.serving_key)
        return int(issued or 0), int(serving or 0)

    async def call_next(self, places: int, now: float) -> int:
        # One script: two processes calling at once never call a ticket twice nor move
        # `serving` backwards. `places` is at most the capacity, so the loop is bounded.
        result = await self.redis.eval(
            "local issued = tonumber(redis.call('GET', KEYS[1]) or '0') "
            "local serving = tonumber(redis.call('GET', KEYS[2]) or '0') "
            "local target = math.min(issued, serving + tonumber(ARGV[1])) "
            "for t = serving + 1, target do redis.call('ZADD', KEYS[3], ARGV[2], t) end "
            "if target > serving then "
            "  redis.call('SET', KEYS[2], target, 'EX', ARGV[3]) "
            "  redis.call('EXPIRE', KEYS[3], ARGV[3]) "
            "  return target "
            "end "
            "return serving",
            3,
            self.issued_key,
            self.serving_key,
            self.called_key,
            str(places),
            repr(now),
            str(COUNTERS_TTL_SECONDS),
        )
        return int(result)

    async def called_count(self, now: float) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(self.called_key, "-inf", now - GRACE_SECONDS)
            pipe.zcard(self.called_key)
            result = await pipe.execute()
        return int(result[1])

    async def redeem(self, ticket: int) -> None:
        await self.redis.zrem(self.called_key, str(ticket))


# --- tickets -------------------------------------------------------------------------


def sign_ticket(secret: str, ticket: int, member: str) -> str:
    """A ticket signed for one session (`member`, its hashed cookie): a called ticket
    cannot be handed to other sessions to let them in."""
    message = f"ticket:{ticket}:{member}".encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{ticket}.{mac[:32]}"


def read_ticket(secret: str, value: str | None, member: str) -> int | None:
    """The ticket number of a cookie this installation signed for this session, else None."""
    if not value or len(value) > 80:
        return None
    number, _, mac = value.partition(".")
    if not number.isdigit() or len(number) > 12:
        return None
    expected = sign_ticket(secret, int(number), member).partition(".")[2]
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

    async def decide(
        self,
        member: str,
        ticket: int | None,
        now: float,
        known: Callable[[], Awaitable[bool]] | None = None,
    ) -> Verdict:
        """Let this session in, or give (or keep) its place in the queue. `known` says
        whether the session store holds this session: one that it does not (a made-up or
        ended cookie) is sent on to the page, which sends it to the login, without taking
        a place or a ticket."""
        backend = self.backend
        if await backend.is_active(member, now):
            await backend.touch(member, now)
            return Verdict(True)
        if known is not None and not await known():
            return Verdict(True)
        active = await backend.active_count(now)
        called = await backend.called_count(now)
        issued, serving = await backend.counters()
        if ticket is not None and ticket > issued:
            ticket = None  # from a queue that has since expired
        free = self.capacity - active - called
        if free > 0 and serving < issued:
            # The queue moves with the free places, whoever comes back.
            called_now = await backend.call_next(free, now)
            free -= called_now - serving
            serving = called_now
        if ticket is not None and ticket <= serving:
            await backend.redeem(ticket)
            await backend.touch(member, now)
            return Verdict(True, ticket=ticket)
        if ticket is None:
            if free > 0 and serving >= issued:  # nobody queueing: walk in
                await backend.touch(member, now)
                return Verdict(True)
            ticket = await backend.next_ticket()
            new = True
        else:
            new = False
        return Verdict(False, position=max(1, ticket - serving), ticket=ticket, new_ticket=new)

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


def waiting_room_middleware(
    app: ASGIApp,
    room: WaitingRoom,
    secure: bool,
    session_known: Callable[[str], Awaitable[bool]] | None = None,
) -> ASGIApp:
    """`session_known(cookie)` asks the session store whether a session exists (only for a
    session not already counted active)."""

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
        ticket = read_ticket(room.secret, _cookie(scope, TICKET_COOKIE), member)
        known = None if session_known is None else functools.partial(session_known, session)
        try:
            async with asyncio.timeout(DEADLINE_SECONDS):
                verdict = await room.decide(member, ticket, now, known)
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
            signed = sign_ticket(room.secret, verdict.ticket, member)
            cookie = f"{TICKET_COOKIE}={signed}{attributes}"
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
