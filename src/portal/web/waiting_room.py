"""The waiting room of the booking pages: when more parents are active on them than the
installation is set to serve (PORTAL_WAITING_ROOM_CAPACITY), new arrivals get a light
static page, served before the session is loaded or the database touched (a new arrival
costs one lookup in the session store), with their place in the queue and an estimate;
they are let in in order.

- Active: a parent's account (its holder key, "parent:<id>") that reached a booking page
  within the last ACTIVE_SECONDS, from any of its sessions: a parent on a phone and a
  laptop, or a script logging one account in a thousand times, holds one place. Counted
  in Redis (a sorted set by last visit, shared by every web process, and a short-lived
  link from each session, its cookie hashed, to its holder) when configured, else in the
  process's memory.
- The queue is a bakery's: each new arrival beyond capacity takes a ticket (a number from
  a counter, kept in a cookie signed for its session), one per holder: the holder's other
  sessions get the same number, and once the holder is in, by any of them, its ticket is
  used and keeps no place for anyone; ``serving`` is the highest ticket
  called. Whenever places are free, the next tickets are called in order, as many as there
  are free places, and each called ticket keeps its place for GRACE_SECONDS (the waiting
  page reloads every REFRESH_SECONDS). A holder who comes back within the grace takes the
  place kept for it; a holder back later, while it keeps reloading (LATE_SECONDS), is
  served before anyone newly called, in ticket order. A ticket is used once. So a parent
  who closed the waiting page only holds a place for the grace period, and the queue
  never stalls behind abandoned tickets.
- The whole decision for a new arrival is one atomic step (one Lua script on Redis), so
  that concurrent requests never each take the same free places; the counters live in one
  hash with an epoch, and a ticket of a lost queue (expired or evicted) is not a place.
- Only logged-in parents' sessions, as the session store knows them, take a place or a
  ticket: a made-up cookie is sent on to the page, which sends it to the login.
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
# A called holder back after its grace, still reloading, keeps its turn this long.
LATE_SECONDS = 2 * REFRESH_SECONDS + 1
COUNTERS_TTL_SECONDS = 24 * 3600
# A ticket lasts this long after its holder last waited with it (its cookie's lifetime):
# a holder back later, from any session, draws a new one.
TICKET_SECONDS = 2 * 3600
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
class Verdict:
    admitted: bool
    position: int = 0
    ticket: Ticket | None = None


class Backend(Protocol):
    async def refresh(self, member: str, now: float) -> bool:
        """Mark a session's holder active again if it still is (one step: the hot path of
        every parent already in)."""

    async def admit(
        self, member: str, holder: str, ticket: Ticket | None, capacity: int, now: float
    ) -> Verdict:
        """The whole decision for a session (`member`) whose holder is not active through it
        yet, in one atomic step (concurrent requests must not each see the same free
        places): let it in beside its holder's other session, call the next tickets while
        places are free, let in a called holder, a late one in ticket order, a walker-in
        when nobody queues, or give a ticket."""


@dataclass
class QueueState:
    """What `_decide` reads and updates: the numbers called (holding a place for their
    grace), late (called, grace lapsed, still reloading: served first, in ticket order) and
    used (let in once: a ticket is not a pass)."""

    issued: int
    serving: int
    called: set[int]
    late: set[int]
    used: set[int]


def _decide(capacity: int, active: int, state: QueueState, number: int | None) -> tuple[str, int]:
    """The decision itself, the Lua script's twin (RedisBackend.ADMIT): ("in" | "wait" |
    "new", position); `state` is updated in place."""
    if number is not None and (number > state.issued or number in state.used or number < 1):
        number = None  # another queue's, or already used
    free = capacity - active - len(state.called)
    if number is not None and number <= state.serving:
        if number in state.called:
            state.called.discard(number)
            state.used.add(number)
            return "in", 0
        ahead = sum(1 for other in state.late if other < number)
        if ahead < free:
            state.late.discard(number)
            state.used.add(number)
            return "in", 0
        state.late.add(number)
        return "wait", ahead + 1
    # Late holders take the free places first; the queue moves with the rest.
    free -= len(state.late)
    if free > 0 and state.serving < state.issued:
        target = min(state.issued, state.serving + free)
        state.called.update(range(state.serving + 1, target + 1))
        free -= target - state.serving
        state.serving = target
    if number is not None and number <= state.serving:
        state.called.discard(number)
        state.used.add(number)
        return "in", 0
    if number is None:
        if free > 0 and state.serving >= state.issued:
            return "in", 0
        state.issued += 1
        return "new", state.issued - state.serving
    return "wait", max(1, number - state.serving)


@dataclass
class MemoryBackend:
    """One process's own count (the embedded default: one web process). Its steps run
    without awaiting anything, so no other request interleaves."""

    active: dict[str, float] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    issued: int = 0
    served: int = 0
    called: dict[int, float] = field(default_factory=dict)
    late: dict[int, float] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)
    # holder -> its one ticket, and when it last waited with it
    tickets: dict[str, tuple[int, float]] = field(default_factory=dict)
    epoch: str = field(default_factory=lambda: secrets.token_hex(4))

    def _expire(self, now: float) -> None:
        self.active = {m: seen for m, seen in self.active.items() if seen >= now - ACTIVE_SECONDS}
        self.sessions = {s: h for s, h in self.sessions.items() if h in self.active}
        self.called = {n: at for n, at in self.called.items() if at >= now - GRACE_SECONDS}
        self.late = {n: seen for n, seen in self.late.items() if seen >= now - LATE_SECONDS}
        self.tickets = {
            h: held for h, held in self.tickets.items() if held[1] >= now - TICKET_SECONDS
        }

    async def refresh(self, member: str, now: float) -> bool:
        holder = self.sessions.get(member)
        seen = None if holder is None else self.active.get(holder)
        if holder is None or seen is None or seen < now - ACTIVE_SECONDS:
            return False
        self.active[holder] = now
        return True

    def _enter(self, member: str, holder: str, now: float) -> Verdict:
        self.active[holder] = now
        self.sessions[member] = holder
        held = self.tickets.pop(holder, None)
        if held is not None:  # in by any way: its ticket keeps no place for anyone
            self.called.pop(held[0], None)
            self.late.pop(held[0], None)
            self.used.add(held[0])
        return Verdict(True)

    async def admit(
        self, member: str, holder: str, ticket: Ticket | None, capacity: int, now: float
    ) -> Verdict:
        self._expire(now)
        if holder in self.active:  # in through another session, or let in meanwhile
            return self._enter(member, holder, now)
        number = ticket.number if ticket and ticket.epoch == self.epoch else None
        if holder in self.tickets:  # one ticket per holder, whatever the session
            number = self.tickets[holder][0]
        state = QueueState(
            self.issued, self.served, set(self.called), set(self.late), set(self.used)
        )
        outcome, position = _decide(capacity, len(self.active), state, number)
        self.issued, self.served, self.used = state.issued, state.serving, state.used
        self.called = {n: self.called.get(n, now) for n in state.called}
        self.late = {n: now if n == number else self.late[n] for n in state.late}
        if outcome == "in":
            return self._enter(member, holder, now)
        held = Ticket(self.epoch, self.issued if outcome == "new" else number or 0)
        self.tickets[holder] = (held.number, now)
        return Verdict(False, position, held)


class RedisBackend:
    """Shared by every web process: sorted sets of active holders, called tickets (by call
    time) and late holders (by last reload), a set of used tickets, and one hash (epoch,
    issued, serving); all but the active set share one lifetime, so the counters can never
    be lost one without the other. Each session let in links to its holder (a key that
    lives as long as the holder's activity could)."""

    # The twin of _decide, in one script: Redis runs it alone, so requests of any process
    # see the places the previous one took. Expiry is strict ("(" bounds), as in memory;
    # the bounds come computed from Python, since Lua would print them with 14 digits and
    # move them off the instant memory compares with.
    ADMIT = """
local capacity = tonumber(ARGV[1])
local ttl = tonumber(ARGV[5])
local holder = ARGV[6]
local active_seconds = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[11])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[10])
local function enter()
  redis.call('ZADD', KEYS[1], ARGV[2], holder)
  redis.call('EXPIRE', KEYS[1], active_seconds * 2)
  redis.call('SET', KEYS[6], holder, 'EX', active_seconds * 2)
  local mine = redis.call('HGET', KEYS[7], holder)
  if mine then  -- in by any way: its ticket keeps no place for anyone
    local e, n = string.match(mine, '^(%w+):(%d+):')
    if e == redis.call('HGET', KEYS[3], 'epoch') then
      redis.call('ZREM', KEYS[2], n)
      redis.call('ZREM', KEYS[4], n)
      redis.call('SADD', KEYS[5], n)
      redis.call('EXPIRE', KEYS[5], ttl)
    end
    redis.call('HDEL', KEYS[7], holder)
  end
  return {1, 0, 0, ''}
end
if redis.call('ZSCORE', KEYS[1], holder) then return enter() end
redis.call('HSETNX', KEYS[3], 'epoch', ARGV[9])
for _, key in ipairs({KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[7]}) do
  redis.call('EXPIRE', key, ttl)
end
local state = redis.call('HMGET', KEYS[3], 'epoch', 'issued', 'serving')
local epoch = state[1]
local issued = tonumber(state[2] or '0')
local serving = tonumber(state[3] or '0')
local number = tonumber(ARGV[7])
local ticket_epoch = ARGV[8]
local mine = redis.call('HGET', KEYS[7], holder)
if mine then
  local e, n, seen = string.match(mine, '^(%w+):(%d+):(.+)$')
  if e == epoch and tonumber(seen) >= tonumber(ARGV[12]) then
    ticket_epoch, number = e, tonumber(n)
  end
end
local function wait(n, position)
  redis.call('HSET', KEYS[7], holder, epoch .. ':' .. n .. ':' .. ARGV[2])
  redis.call('EXPIRE', KEYS[7], ttl)
  return {0, n, position, epoch}
end
if ticket_epoch ~= epoch or number > issued or number < 1
  or redis.call('SISMEMBER', KEYS[5], number) == 1 then number = 0 end
local free = capacity - redis.call('ZCARD', KEYS[1]) - redis.call('ZCARD', KEYS[2])
local function use(n)
  redis.call('SADD', KEYS[5], n)
  redis.call('EXPIRE', KEYS[5], ttl)
  return enter()
end
local late = redis.call('ZRANGE', KEYS[4], 0, -1)
if number > 0 and number <= serving then
  if redis.call('ZREM', KEYS[2], number) == 1 then return use(number) end
  local ahead = 0
  for _, other in ipairs(late) do
    if tonumber(other) < number then ahead = ahead + 1 end
  end
  if ahead < free then
    redis.call('ZREM', KEYS[4], number)
    return use(number)
  end
  redis.call('ZADD', KEYS[4], ARGV[2], number)
  redis.call('EXPIRE', KEYS[4], ttl)
  return wait(number, ahead + 1)
end
free = free - #late
if free > 0 and serving < issued then
  local target = math.min(issued, serving + free)
  for t = serving + 1, target do redis.call('ZADD', KEYS[2], ARGV[2], t) end
  redis.call('EXPIRE', KEYS[2], ttl)
  free = free - (target - serving)
  serving = target
  redis.call('HSET', KEYS[3], 'serving', serving)
end
if number > 0 and number <= serving then
  redis.call('ZREM', KEYS[2], number)
  return use(number)
end
if number == 0 then
  if free > 0 and serving >= issued then return enter() end
  number = redis.call('HINCRBY', KEYS[3], 'issued', 1)
  return wait(number, number - serving)
end
return wait(number, math.max(1, number - serving))
"""

    REFRESH = """
local holder = redis.call('GET', KEYS[2])
if not holder then return 0 end
local seen = redis.call('ZSCORE', KEYS[1], holder)
if seen and tonumber(seen) >= tonumber(ARGV[1]) - tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[1], holder)
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
  return 1
end
return 0
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
        self.late_key = f"{namespace}:late"
        self.used_key = f"{namespace}:used"
        self.session_prefix = f"{namespace}:session:"
        self.holders_key = f"{namespace}:holders"
        self._admit = self.redis.register_script(self.ADMIT)
        self._refresh = self.redis.register_script(self.REFRESH)

    @property
    def keys(self) -> list[str]:
        return [self.active_key, self.called_key, self.state_key, self.late_key, self.used_key]

    async def refresh(self, member: str, now: float) -> bool:
        refreshed = await self._refresh(
            keys=[self.active_key, self.session_prefix + member], args=[repr(now), ACTIVE_SECONDS]
        )
        return bool(refreshed)

    async def admit(
        self, member: str, holder: str, ticket: Ticket | None, capacity: int, now: float
    ) -> Verdict:
        admitted, number, position, epoch = await self._admit(
            keys=[*self.keys, self.session_prefix + member, self.holders_key],
            args=[
                capacity, repr(now), ACTIVE_SECONDS, repr(now - GRACE_SECONDS),
                COUNTERS_TTL_SECONDS, holder, ticket.number if ticket else 0,
                ticket.epoch if ticket else "", secrets.token_hex(4), repr(now - LATE_SECONDS),
                repr(now - ACTIVE_SECONDS), repr(now - TICKET_SECONDS),
            ],
        )  # fmt: skip
        if admitted:
            return Verdict(True)
        epoch_text = epoch.decode() if isinstance(epoch, bytes) else str(epoch)
        return Verdict(False, int(position), Ticket(epoch_text, int(number)))


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
    # ASCII only: the cookie is read as latin-1, and "²".isdigit() is true.
    if not (value.isascii() and epoch.isalnum() and number.isdigit() and mac.isalnum()):
        return None
    if len(epoch) > 16 or len(number) > 12:
        return None
    ticket = Ticket(epoch, int(number))
    expected = sign_ticket(secret, ticket, member).rpartition(".")[2]
    return ticket if hmac.compare_digest(mac, expected) else None


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
        holder_of: Callable[[], Awaitable[str | None]] | None = None,
    ) -> Verdict:
        """Let this session in, or give (or keep) its place in the queue. `holder_of` says
        whose logged-in session the session store holds ("parent:<id>"): a session it does
        not know (a made-up or ended cookie) is sent on to the page, which sends it to the
        login, without taking a place or a ticket. Without it, each session is its own
        holder."""
        if await self.backend.refresh(member, now):
            return Verdict(True)
        holder = member if holder_of is None else await holder_of()
        if holder is None:
            return Verdict(True)
        return await self.backend.admit(member, holder, ticket, self.capacity, now)

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
    session_holder: Callable[[str], Awaitable[str | None]] | None = None,
) -> ASGIApp:
    """`session_holder(cookie)` asks the session store whose logged-in session this is
    (only for a session not already counted active): the place is the holder's."""

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
        holder = None if session_holder is None else functools.partial(session_holder, session)
        try:
            async with asyncio.timeout(DEADLINE_SECONDS):
                verdict = await room.decide(member, ticket, now, holder)
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
        if verdict.ticket is not None:
            # On every waiting page, not only the first: a long wait never outlives it.
            attributes = f"; Path=/; HttpOnly; SameSite=Lax; Max-Age={TICKET_SECONDS}"
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
