"""The waiting room through the live server: beyond the capacity a parent gets the static
page with a place in the queue, then is let in once a place frees; in order."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from portal import clock
from portal.tables import BookingPeriod
from portal.web.waiting_room import (
    ACTIVE_SECONDS,
    COUNTERS_TTL_SECONDS,
    GRACE_SECONDS,
    TICKET_SECONDS,
    Backend,
    MemoryBackend,
    RedisBackend,
    Ticket,
    Verdict,
    WaitingRoom,
    read_ticket,
    sign_ticket,
)
from tests.conftest import REDIS_URL, Database, SmtpSink, make_settings, require_service
from tests.factories import PASSWORD, make_family, make_structure
from tests.web.conftest import Browser, LiveServer, text


@pytest.fixture
async def small_live(
    db: Database, tmp_path: Path, smtp_server: SmtpSink
) -> AsyncIterator[LiveServer]:
    settings = make_settings(tmp_path, db.url, PORTAL_WAITING_ROOM_CAPACITY=1)
    async with LiveServer(settings, db) as server:
        yield server


async def test_second_parent_waits_then_gets_in(db: Database, small_live: LiveServer) -> None:
    structure = await make_structure()
    await make_family(login="premier", structure=structure, children=("Paolo",))
    await make_family(login="second", structure=structure, children=("Lea",))
    async with (
        Browser(base_url=small_live.url, follow_redirects=False, timeout=30) as first,
        Browser(base_url=small_live.url, follow_redirects=False, timeout=30) as second,
    ):
        await first.login("premier", PASSWORD)
        await second.login("second", PASSWORD)
        assert (await first.get("/reservations")).status_code == 200
        waiting = await second.get("/reservations")
        assert waiting.status_code == 200
        page = text(waiting)
        assert "Salle d'attente" in page and 'id="position">1<' in page
        assert "/static/waiting-room.js" in page and "<script>" not in page
        assert "aucun avantage" not in page
        assert waiting.headers["retry-after"] == "10"
        ticket = second.cookies.get("portal_queue")
        member = hashlib.sha256(str(second.cookies.get("portal_session")).encode()).hexdigest()
        held = read_ticket(small_live.settings.secret_key, ticket, member[:32])
        assert held is not None and held.number == 1
        # htmx fragments of a waiting parent send the browser to the full page.
        fragment = await second.get("/reservations", headers={"hx-request": "true"})
        assert fragment.headers["hx-redirect"] == "/reservations"
        # The first parent keeps going; pages outside booking are not gated.
        assert (await first.get("/reservations")).status_code == 200
        assert "Salle d'attente" not in text(await second.get("/suivi"))
        # The first parent on a second device shares the place it holds: not queued.
        async with Browser(base_url=small_live.url, follow_redirects=False) as laptop:
            await laptop.login("premier", PASSWORD)
            on_laptop = await laptop.get("/reservations")
            assert on_laptop.status_code == 200 and "Salle d'attente" not in text(on_laptop)
            assert "portal_queue" not in on_laptop.cookies
        # A made-up session cookie is sent to the login: it takes no place and no ticket.
        async with Browser(base_url=small_live.url, follow_redirects=False) as intruder:
            intruder.cookies.set("portal_session", "f" * 64)
            made_up = await intruder.get("/reservations")
            assert made_up.status_code in (302, 303) and "portal_queue" not in made_up.cookies
        room: WaitingRoom = small_live.app.state.waiting_room
        assert isinstance(room.backend, MemoryBackend)
        assert room.backend.issued == 1 and len(room.backend.active) == 1
        # The first parent's activity lapses: the second is let in with the same ticket.
        for member in list(room.backend.active):
            room.backend.active[member] -= ACTIVE_SECONDS + 1
        admitted = await second.get("/reservations")
        assert "Salle d'attente" not in text(admitted)
        assert admitted.status_code == 200
        # Now the first one waits behind nobody: a new ticket, place 1.
        again = await first.get("/reservations")
        assert "Salle d'attente" in text(again)


async def test_in_order_and_window_note() -> None:
    room = WaitingRoom(MemoryBackend(), 2, "s" * 32)
    now = 1000.0
    assert (await room.decide("a", None, now)).admitted
    assert (await room.decide("b", None, now)).admitted
    c = await room.decide("c", None, now)
    d = await room.decide("d", None, now)
    assert (c.admitted, c.position, d.position) == (False, 1, 2)
    later = now + ACTIVE_SECONDS + 1
    assert isinstance(room.backend, MemoryBackend)
    room.backend.active["b"] = later  # a leaves, b stays: one place
    # d asks first, but c is ahead: c's ticket is called, d still waits; c gets in.
    assert not (await room.decide("d", d.ticket, later)).admitted
    assert (await room.decide("c", c.ticket, later)).admitted
    ticket = Ticket("e1", 7)
    assert read_ticket("s" * 32, sign_ticket("s" * 32, ticket, "c"), "c") == ticket
    assert read_ticket("s" * 32, "e1.7.forged", "c") is None
    # A ticket signed for another session is not this one's.
    assert read_ticket("s" * 32, sign_ticket("s" * 32, ticket, "c"), "d") is None


async def _abandoned_tickets_do_not_stall_the_queue(backend: Backend) -> None:
    room = WaitingRoom(backend, 2, "s" * 32)
    now = 1000.0
    for member in ("a", "b"):
        assert (await room.decide(member, None, now)).admitted
    # Five parents queue, then close the page; c will come back late.
    tickets = {m: (await room.decide(m, None, now)).ticket for m in ("c", "d", "e", "f", "g")}
    latecomer = await room.decide("h", None, now)
    assert (latecomer.admitted, latecomer.position) == (False, 6)
    # a and b leave. Each pass calls the next tickets, as many as places are free; a called
    # ticket keeps its place for GRACE_SECONDS, then the next ones are called.
    later = now + ACTIVE_SECONDS + 1
    waits = 0
    verdict = await room.decide("h", latecomer.ticket, later)
    while not verdict.admitted:
        waits += 1
        assert waits <= 3, "the queue stalled behind abandoned tickets"
        later += GRACE_SECONDS + 1
        verdict = await room.decide("h", latecomer.ticket, later)
    # Tickets 1-2 called at the first pass, 3-4 a grace later, 5-6 (h's) the next one:
    # never more called at once than there are places.
    assert waits == 2
    # c comes back after its grace: no place is free (h in, g's call still held), so it is
    # first in line, not let in over the capacity; once g's grace lapses, c is in before
    # anyone newly called.
    newcomer = await room.decide("i", None, later)
    assert not newcomer.admitted
    late = await room.decide("c", tickets["c"], later)
    assert (late.admitted, late.position) == (False, 1)
    later += GRACE_SECONDS + 1
    assert (await room.decide("c", tickets["c"], later)).admitted
    assert not (await room.decide("i", newcomer.ticket, later)).admitted


async def test_abandoned_tickets_do_not_stall_the_queue() -> None:
    await _abandoned_tickets_do_not_stall_the_queue(MemoryBackend())


def _holder(name: str | None) -> Callable[[], Awaitable[str | None]]:
    """What the session store would say of a session: whose it is (None: no such session)."""

    async def of() -> str | None:
        return name

    return of


@contextlib.asynccontextmanager
async def _redis_queue() -> AsyncIterator[RedisBackend]:
    """A queue of its own on the test Redis, forgotten (every key it wrote) afterwards."""
    require_service("Redis", REDIS_URL, 6379)
    backend = RedisBackend(REDIS_URL, namespace=f"portal-test-room-{uuid.uuid4().hex}")
    try:
        yield backend
    finally:
        links = [k async for k in backend.redis.scan_iter(match=f"{backend.session_prefix}*")]
        await backend.redis.delete(*backend.keys, backend.holders_key, *links)
        await backend.redis.aclose()


async def _late_holders_keep_their_turn(backend: Backend) -> None:
    """A holder back after its grace, still reloading, is served before anyone newly called,
    and in ticket order (a review saw one shown « place 1 » while 25 later tickets went in);
    a ticket once used is not a pass."""
    room = WaitingRoom(backend, 1, "s" * 32)
    t = 1000.0
    assert (await room.decide("a", None, t)).admitted
    c = await room.decide("c", None, t)
    d = await room.decide("d", None, t)
    t += ACTIVE_SECONDS + 1  # a leaves; d's reload calls c's ticket
    assert not (await room.decide("d", d.ticket, t)).admitted
    t += GRACE_SECONDS + 1  # c missed its call; x's arrival calls d's ticket
    x = await room.decide("x", None, t)
    assert not x.admitted
    late = await room.decide("c", c.ticket, t + 1)
    assert (late.admitted, late.position) == (False, 1)
    # c keeps reloading; d never comes back. When d's call lapses, x's reload does not take
    # the place: c does.
    for step in (11, 21):
        assert not (await room.decide("c", c.ticket, t + step)).admitted
    t += GRACE_SECONDS + 1
    assert not (await room.decide("x", x.ticket, t)).admitted
    assert (await room.decide("c", c.ticket, t)).admitted
    # c leaves and comes back with the same ticket: used, so it queues behind x.
    t += ACTIVE_SECONDS + 1
    again = await room.decide("c", c.ticket, t)
    assert again.ticket is not None and again.ticket != c.ticket
    x_turn = await room.decide("x", x.ticket, t)
    assert x_turn.admitted


async def test_late_holders_keep_their_turn() -> None:
    await _late_holders_keep_their_turn(MemoryBackend())


async def test_late_holders_keep_their_turn_on_redis() -> None:
    async with _redis_queue() as backend:
        await _late_holders_keep_their_turn(backend)


def test_odd_ticket_cookies_are_no_ticket() -> None:
    """Read as latin-1 from the cookie header: never an error page."""
    for value in ("ab.².x", "ab.7.é" + "0" * 31, "..", "ab..", ".7.x", "a" * 101, ""):
        assert read_ticket("s" * 32, value, "m") is None


async def test_abandoned_tickets_do_not_stall_the_queue_on_redis() -> None:
    async with _redis_queue() as backend:
        await _abandoned_tickets_do_not_stall_the_queue(backend)
        ttl = await backend.redis.ttl(backend.state_key)
        assert 0 < ttl <= COUNTERS_TTL_SECONDS  # one opening's queue does not outlive it


async def test_concurrent_arrivals_never_take_more_than_the_places() -> None:
    """Requests of two web processes at once, each deciding on the same free places: the
    decision is one script, so the room never holds more than its capacity."""
    async with _redis_queue() as first:
        second = RedisBackend(REDIS_URL, namespace=first.active_key.rsplit(":", 1)[0])
        rooms = [WaitingRoom(first, 10, "s" * 32), WaitingRoom(second, 10, "s" * 32)]
        try:
            now = 1000.0
            verdicts = await asyncio.gather(
                *(rooms[n % 2].decide(f"p{n}", None, now) for n in range(60))
            )
            assert sum(v.admitted for v in verdicts) == 10
            queued = sorted(v.ticket.number for v in verdicts if v.ticket)
            assert queued == list(range(1, 51))  # one ticket each, none twice
            # Everybody in leaves: the next ten are called at once by concurrent reloads, no more.
            later = now + ACTIVE_SECONDS + 1
            waiting = [(f"p{n}", v.ticket) for n, v in enumerate(verdicts) if v.ticket]
            again = await asyncio.gather(
                *(rooms[n % 2].decide(m, t, later) for n, (m, t) in enumerate(waiting))
            )
            assert sum(v.admitted for v in again) == 10
            called = await first.redis.zcard(first.called_key)
            active = await first.redis.zcard(first.active_key)
            assert active + called <= 10
        finally:
            await second.redis.aclose()


async def test_a_lost_queue_does_not_let_its_old_tickets_in() -> None:
    """The counters are evicted (or expire) mid-queue: the old tickets are not places in
    the new queue, whose numbers start again."""
    async with _redis_queue() as backend:
        room = WaitingRoom(backend, 1, "s" * 32)
        assert (await room.decide("a", None, 1000.0)).admitted
        queued = [await room.decide(f"q{n}", None, 1000.0) for n in range(5)]
        await backend.redis.delete(backend.state_key)
        later = 1000.0 + ACTIVE_SECONDS + 1
        verdicts = [await room.decide(f"q{n}", v.ticket, later) for n, v in enumerate(queued)]
        assert sum(v.admitted for v in verdicts) == 1
        assert all(v.ticket is None or v.ticket.epoch != queued[0].ticket.epoch for v in verdicts)  # type: ignore[union-attr]


async def test_unknown_sessions_take_no_place() -> None:
    room = WaitingRoom(MemoryBackend(), 1, "s" * 32)
    for n in range(5):
        assert (await room.decide(f"made-up-{n}", None, 1000.0, _holder(None))).admitted
    assert (await room.decide("parent", None, 1000.0, _holder("parent:1"))).admitted
    assert isinstance(room.backend, MemoryBackend)
    assert list(room.backend.active) == ["parent:1"] and room.backend.issued == 0
    # A ticket of another queue (an earlier epoch) is not a place in this one.
    fresh = await room.decide("other", Ticket("old", 1), 1000.0, _holder("parent:2"))
    assert fresh.ticket is not None
    assert (fresh.admitted, fresh.ticket.number, fresh.position) == (False, 1, 1)


async def test_window_note_says_no_advantage(db: Database) -> None:
    from portal.domain.booking.opening import any_window_open

    structure = await make_structure()
    now = clock.utcnow()
    await BookingPeriod(
        structure=structure.id, name="Hiver", first_day=now.date(), last_day=now.date(),
        opens_at=now - timedelta(hours=1), mode="lottery",
        window_ends_at=now + timedelta(hours=1), seed="x",
    ).save()  # fmt: skip
    assert await any_window_open(now)
    assert not await any_window_open(now + timedelta(hours=2))
    from portal.web.waiting_room import waiting_page

    assert "aucun avantage" in waiting_page(3, 1, True).decode()


async def _step(
    backend: Backend, member: str, holder: str, ticket: Ticket | None, capacity: int, now: float
) -> Verdict:
    """One request, as WaitingRoom.decide makes it. The refresh alone may differ between
    the twins for a session whose holder came back through another device (memory forgets
    such a link when the holder lapses, Redis when the link's key expires, in real time);
    either way the session is let in, so the verdicts are compared."""
    if await backend.refresh(member, now):
        return Verdict(True)
    return await backend.admit(member, holder, ticket, capacity, now)


async def test_the_lua_script_and_its_memory_twin_decide_alike() -> None:
    """Random arrivals, reloads, lapses, forged and stale tickets, driven through both
    backends at once: the same answers, the same state, never over capacity."""
    import random

    require_service("Redis", REDIS_URL, 6379)
    for seed in range(12):
        rnd = random.Random(seed)
        async with _redis_queue() as redis_side:
            memory_side = MemoryBackend()
            await redis_side.redis.hset(redis_side.state_key, "epoch", memory_side.epoch)
            capacity = rnd.randint(1, 4)
            members = [f"m{n}" for n in range(rnd.randint(2, 12))]
            # Some parents on two or three devices: one place each.
            holders = {m: f"h{rnd.randrange(max(1, len(members) * 2 // 3))}" for m in members}
            held: dict[str, Ticket] = {}
            now = 1_000_000.0 + (0.123 if seed % 2 else 0)
            steps = (
                [0.01, 1.3, 5.7, 10.1, 21.2, 31.3, 60.2, 121.9]
                if seed % 2
                else [0, 1, 5, 10, 21, 31, 60, 121]
            )
            for _ in range(200):
                now += rnd.choice(steps)
                member = rnd.choice(members)
                pick = rnd.random()
                forged = Ticket(memory_side.epoch, rnd.randint(0, memory_side.issued + 3))
                ticket = (
                    held.get(member) if pick < 0.7
                    else None if pick < 0.8
                    else forged if pick < 0.9
                    else Ticket("deadbeef", rnd.randint(1, 5))
                )  # fmt: skip
                expected = await _step(memory_side, member, holders[member], ticket, capacity, now)
                got = await _step(redis_side, member, holders[member], ticket, capacity, now)
                assert got == expected
                if expected.ticket:
                    held[member] = expected.ticket
                active = await redis_side.redis.zcount(
                    redis_side.active_key, now - ACTIVE_SECONDS, "+inf"
                )
                called = await redis_side.redis.zcount(
                    redis_side.called_key, now - GRACE_SECONDS, "+inf"
                )
                state = await redis_side.redis.hgetall(redis_side.state_key)
                assert (int(state.get(b"issued", 0)), int(state.get(b"serving", 0))) == (
                    memory_side.issued, memory_side.served,
                )  # fmt: skip
                assert active + called <= capacity


async def _one_account_holds_one_place(backend: Backend) -> None:
    """A parent on a phone and a laptop, or a script logging one account in again and
    again, holds one place: its other sessions join it, and the place frees when none of
    them comes back."""
    room = WaitingRoom(backend, 2, "s" * 32)
    holder = _holder
    t = 1000.0
    for device in range(20):
        assert (await room.decide(f"greedy-{device}", None, t, holder("parent:1"))).admitted
    assert (await room.decide("other", None, t, holder("parent:2"))).admitted
    third = await room.decide("third", None, t, holder("parent:3"))
    assert not third.admitted and third.position == 1
    # Every device of the first parent is still in (it refreshes its one place).
    assert (await room.decide("greedy-7", None, t + 5, holder("parent:1"))).admitted
    assert (await room.decide("other", None, t + 100, holder("parent:2"))).admitted
    # Once none of its devices has come back, its place goes to the next in the queue.
    t += 5 + ACTIVE_SECONDS + 1
    assert (await room.decide("third", third.ticket, t, holder("parent:3"))).admitted
    back = await room.decide("greedy-3", None, t, holder("parent:1"))
    assert not back.admitted and back.position == 1


async def test_one_account_holds_one_place() -> None:
    await _one_account_holds_one_place(MemoryBackend())


async def test_one_account_holds_one_place_on_redis() -> None:
    async with _redis_queue() as backend:
        await _one_account_holds_one_place(backend)


async def test_the_session_store_names_a_parent_s_place(tmp_path: Path) -> None:
    """The waiting room's holder is read from the stored session: a parent's account, never
    a staff member's or a half-finished login's."""
    import json

    from litestar.stores.file import FileStore

    from portal.web.sessions import parent_holder

    store = FileStore(tmp_path)
    await store.set("p1", json.dumps({"account_id": 12, "epoch": 0}))
    await store.set("p2", json.dumps({"account_id": 12, "epoch": 0}))
    await store.set("staff", json.dumps({"staff_id": 3, "epoch": 0}))
    await store.set("mfa", json.dumps({"mfa_pending": 3}))
    await store.set("odd", b"not json")
    assert await parent_holder(store, "p1") == await parent_holder(store, "p2") == "parent:12"
    for session in ("staff", "mfa", "odd", "missing"):
        assert await parent_holder(store, session) is None


async def _one_account_holds_one_ticket(backend: Backend) -> None:
    """Queued too, an account holds one place: its sessions share one ticket (a review put
    an honest family at place 51 behind one account logged in 50 times), and once the
    account is in by any of them, that ticket keeps no place for anyone."""
    room = WaitingRoom(backend, 1, "s" * 32)
    t = 1000.0
    assert (await room.decide("first", None, t, _holder("parent:1"))).admitted
    greedy = [await room.decide(f"greedy-{n}", None, t, _holder("parent:2")) for n in range(20)]
    assert {(v.ticket.number if v.ticket else 0, v.position) for v in greedy} == {(1, 1)}
    honest = await room.decide("honest", None, t, _holder("parent:3"))
    assert honest.ticket is not None and (honest.ticket.number, honest.position) == (2, 2)
    # The first parent leaves: the account's phone is called and let in, its laptop beside.
    t += ACTIVE_SECONDS + 1
    assert (await room.decide("greedy-0", greedy[0].ticket, t, _holder("parent:2"))).admitted
    assert (await room.decide("greedy-1", greedy[1].ticket, t, _holder("parent:2"))).admitted
    again = await room.decide("honest", honest.ticket, t, _holder("parent:3"))
    assert not again.admitted and again.position == 1
    # Once the account's sessions have all left, the honest family is next.
    t += ACTIVE_SECONDS + 1
    assert (await room.decide("honest", honest.ticket, t, _holder("parent:3"))).admitted


async def _an_abandoned_ticket_does_not_come_back(backend: Backend) -> None:
    """An account's ticket lasts as its cookie would (TICKET_SECONDS after it last waited
    with it): within that time another login of the account gets it back; hours later the
    account draws a new one (a review let it in with its old number ahead of others)."""
    room = WaitingRoom(backend, 1, "s" * 32)
    t = 1000.0
    assert (await room.decide("first", None, t, _holder("parent:1"))).admitted
    phone = await room.decide("phone", None, t, _holder("parent:2"))
    third = await room.decide("third", None, t, _holder("parent:3"))
    assert phone.ticket is not None and phone.ticket.number == 1
    assert not (await room.decide("third", third.ticket, t + 121, _holder("parent:3"))).admitted
    assert (await room.decide("third", third.ticket, t + 152, _holder("parent:3"))).admitted
    soon = await room.decide("laptop", None, t + 153, _holder("parent:2"))
    assert soon.ticket is not None and soon.ticket.number == 1  # its ticket, still its own
    t += 153 + TICKET_SECONDS + 1
    assert (await room.decide("fourth", None, t, _holder("parent:4"))).admitted
    back = await room.decide("new-login", None, t + 1, _holder("parent:2"))
    assert back.ticket is not None and back.ticket.number == 3 and not back.admitted


async def test_one_account_holds_one_ticket() -> None:
    await _one_account_holds_one_ticket(MemoryBackend())
    await _an_abandoned_ticket_does_not_come_back(MemoryBackend())


async def test_one_account_holds_one_ticket_on_redis() -> None:
    async with _redis_queue() as backend:
        await _one_account_holds_one_ticket(backend)
    async with _redis_queue() as backend:
        await _an_abandoned_ticket_does_not_come_back(backend)
        # Every key the queue writes ends with the queue (a review found the holders'
        # hash, and the called and late sets, left without a lifetime when first written).
        for key in [*backend.keys, backend.holders_key]:
            assert await backend.redis.ttl(key) != -1, key  # -2: not there (empty)
        assert 0 < await backend.redis.ttl(backend.holders_key) <= COUNTERS_TTL_SECONDS
