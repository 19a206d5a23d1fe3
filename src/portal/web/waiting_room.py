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
  page reloads every REFRESH_SECONDS). A holder who comes back within the grace takes the
  place kept for it; later, a free place if there is one (before anyone newly called),
  else it is first in line. So a parent who closed the waiting page only holds a place
  for the grace period, and the queue never stalls behind abandoned tickets.
- The whole decision for a new arrival is one atomic step (one Lua script on Redis), so
  that concurrent requests never each take the same free places; the counters live in one
  hash with an epoch, and a ticket of a lost queue (expired or evicted) is not a place.
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
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any, NamedTuple, Protocol

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


class Ticket(NamedTuple):
    """A place in the queue: its number, in the queue of that epoch (a queue whose counters
    were lost, by expiry or eviction, starts a new epoch: its old tickets are not places)."""

    epoch: str
    number: int


@dataclass(frozen=True)
class Admission:
    admitted: bool
    ticket: Ticket | None = None
    position: int = 0
    new_ticket: bool = False


class Backend(Protocol):
    async def is_active(self, member: str, now: float) -> bool: ...

    async def touch(self, member: str, now: float) -> int:
        """Mark a session active; returns how many are active (expired ones dropped)."""

    async def admit(
        self, member: str, ticket: Ticket | None, capacity: int, now: float
    ) -> Admission:
        """The whole decision for a session not active yet, in one atomic step (concurrent
        requests must not each see the same free places): call the next tickets while
        places are free, let in a called holder, a walker-in when nobody queues, or give a
        ticket."""


def _decide(
    capacity: int,
    active: int,
    called: set[int],
    issued: int,
    serving: int,
    number: int | None,
) -> tuple[str, int, int]:
    """The decision itself, the Lua script's twin (see RedisBackend.ADMIT): returns
    (outcome, serving after the calls, position) where outcome is "in", "wait" or "new";
    `called` is updated in place (tickets called now added, a holder's removed)."""
    free = capacity - active - len(called)
    if number is not None and number <= serving:
        # A called holder: in on the place held for it, or on a free one if its grace
        # lapsed (before anyone newly called); else first in line.
        if number in called or free > 0:
            called.discard(number)
            return "in", serving, 0
        return "wait", serving, 1
    if free > 0 and serving < issued:
        target = min(issued, serving + free)
        called.update(range(serving + 1, target + 1))
        free -= target - serving
        serving = target
    if number is not None and number <= serving:
        called.discard(number)
        return "in", serving, 0
    if number is None:
        if free > 0 and serving >= issued:
            return "in", serving, 0
        return "new", serving, issued + 1 - serving
    return "wait", serving, max(1, number - serving)


@dataclass
class MemoryBackend:
    """One process's own count (the embedded default: one web process). Its admit runs
    without awaiting anything, so no other request interleaves."""

    active: dict[str, float] = field(default_factory=dict)
    issued: int = 0
    served: int = 0
    called: dict[int, float] = field(default_factory=dict)
    epoch: str = field(default_factory=lambda: secrets.token_hex(4))

    def _expire(self, now: float) -> None:
        limit = now - ACTIVE_SECONDS
        for member in [m for m, seen in self.active.items() if seen < limit]:
            del self.active[member]
        grace = now - GRACE_SECONDS
        for number in [t for t, at in self.called.items() if at < grace]:
            del self.called[number]

    async def touch(self, member: str, now: float) -> int:
        self._expire(now)
        self.active[member] = now
        return len(self.active)

    async def is_active(self, member: str, now: float) -> bool:
        seen = self.active.get(member)
        return seen is not None and seen >= now - ACTIVE_SECONDS

    async def admit(
        self, member: str, ticket: Ticket | None, capacity: int, now: float
    ) -> Admission:
        self._expire(now)
        number = ticket.number if ticket and ticket.epoch == self.epoch else None
        if number is not None and number > self.issued:
            number = None
        called = set(self.called)
        before = set(called)
        outcome, self.served, position = _decide(
            capacity, len(self.active), called, self.issued, self.served, number
        )
        for fresh in called - before:
            self.called[fresh] = now
        for gone in before - called:
            del self.called[gone]
        if outcome == "in":
            self.active[member] = now
            return Admission(True, None if number is None else Ticket(self.epoch, number))
        if outcome == "new":
            self.issued += 1
            return Admission(False, Ticket(self.epoch, self.issued), position, True)
        assert number is not None
        return Admission(False, Ticket(self.epoch, number), position)


class RedisBackend:
    """Shared by every web process: a sorted set of active sessions, one of called tickets
    (by call time), and one hash (epoch, issued, serving) with one lifetime, so the two
    counters can never be lost one without the other."""

    # The twin of _decide, in one script: Redis runs it alone, so requests of any process
    # see the places the previous one took.
    ADMIT = """
local capacity = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[4]))
redis.call('HSETNX', KEYS[3], 'epoch', ARGV[9])
redis.call('EXPIRE', KEYS[3], ttl)
local state = redis.call('HMGET', KEYS[3], 'epoch', 'issued', 'serving')
local epoch = state[1]
local issued = tonumber(state[2] or '0')
local serving = tonumber(state[3] or '0')
local number = tonumber(ARGV[7])
if ARGV[8] ~= epoch or number > issued then number = 0 end
local free = capacity - redis.call('ZCARD', KEYS[1]) - redis.call('ZCARD', KEYS[2])
local function enter()
  redis.call('ZADD', KEYS[1], now, ARGV[6])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
  return {1, number, 0, 0, epoch}
end
if number > 0 and number <= serving then
  if redis.call('ZREM', KEYS[2], number) == 1 or free > 0 then return enter() end
  return {0, number, 1, 0, epoch}
end
if free > 0 and serving < issued then
  local target = math.min(issued, serving + free)
  for t = serving + 1, target do redis.call('ZADD', KEYS[2], now, t) end
  redis.call('EXPIRE', KEYS[2], ttl)
  free = free - (target - serving)
  serving = target
  redis.call('HSET', KEYS[3], 'serving', serving)
end
if number > 0 and number <= serving then
  redis.call('ZREM', KEYS[2], number)
  return enter()
end
if number == 0 then
  if free > 0 and serving >= issued then return enter() end
  number = redis.call('HINCRBY', KEYS[3], 'issued', 1)
  return {0, number, math.max(1, number - serving), 1, epoch}
end
return {0, number, math.max(1, number - serving), 0, epoch}
"""

    def __init__(self, url: str, namespace: str = "portal:waiting") -> None:
        from redis.asyncio import Redis

        # Bounded per decision, not per socket operation (see portal.web.redis_store).
        self.redis = Redis.from_url(
            url, socket_timeout=None, socket_connect_timeout=DEADLINE_SECONDS
        )
        self.active_key = f"{namespace}:active"
        self.called_key = f"{namespace}:called"
        self.state_key = f"{namespace}:state"
        self._admit = self.redis.register_script(self.ADMIT)

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

    async def admit(
        self, member: str, ticket: Ticket | None, capacity: int, now: float
    ) -> Admission:
        admitted, number, position, new, epoch = await self._admit(
            keys=[self.active_key, self.called_key, self.state_key],
            args=[
                capacity, repr(now), ACTIVE_SECONDS, GRACE_SECONDS, COUNTERS_TTL_SECONDS,
                member, ticket.number if ticket else 0, ticket.epoch if ticket else "",
                secrets.token_hex(4),
            ],
        )  # fmt: skip
        epoch_text = epoch.decode() if isinstance(epoch, bytes) else str(epoch)
        held = Ticket(epoch_text, int(number)) if int(number) else None
        return Admission(bool(admitted), held, int(position), bool(new))


# --- tickets -------------------------------------------------------------------------


def sign_ticket(secret: str, ticket: Ticket, member: str) -> str:
    """A ticket signed for one session (`member`, its hashed cookie): a called ticket
    cannot be handed to other sessions to let them in."""
    message = f"ticket:{ticket.epoch}:{ticket.number}:{member}".encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{ticket.epoch}.{ticket.number}.{mac[:32]}"


def read_ticket(secret: str, value: str | None, member: str) -> Ticket | None:
    """The ticket of a cookie this installation signed for this session, else None."""
    if not value or len(value) > 100:
        return None
    epoch, _, rest = value.partition(".")
    number, _, mac = rest.partition(".")
    if not epoch.isalnum() or len(epoch) > 16 or not number.isdigit() or len(number) > 12:
        return None
    ticket = Ticket(epoch, int(number))
    expected = sign_ticket(secret, ticket, member).rpartition(".")[2]
    return ticket if hmac.compare_digest(mac, expected) else None


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    position: int = 0
    ticket: Ticket | None = None
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
        ticket: Ticket | None,
        now: float,
        known: Callable[[], Awaitable[bool]] | None = None,
    ) -> Verdict:
        """Let this session in, or give (or keep) its place in the queue. `known` says
        whether the session store holds this session: one that it does not (a made-up or
        ended cookie) is sent on to the page, which sends it to the login, without taking
        a place or a ticket."""
        if await self.backend.is_active(member, now):
            await self.backend.touch(member, now)
            return Verdict(True)
        if known is not None and not await known():
            return Verdict(True)
        admission = await self.backend.admit(member, ticket, self.capacity, now)
        return Verdict(
            admission.admitted, admission.position, admission.ticket, admission.new_ticket
        )

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
