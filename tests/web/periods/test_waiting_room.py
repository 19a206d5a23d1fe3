"""The waiting room through the live server: beyond the capacity a parent gets the static
page with a place in the queue, then is let in once a place frees; in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from portal import clock
from portal.tables import BookingPeriod
from portal.web.waiting_room import (
    ACTIVE_SECONDS,
    MemoryBackend,
    WaitingRoom,
    read_ticket,
    sign_ticket,
)
from tests.conftest import Database, SmtpSink, make_settings
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
        assert ticket and read_ticket(small_live.settings.secret_key, ticket) == 1
        # htmx fragments of a waiting parent send the browser to the full page.
        fragment = await second.get("/reservations", headers={"hx-request": "true"})
        assert fragment.headers["hx-redirect"] == "/reservations"
        # The first parent keeps going; pages outside booking are not gated.
        assert (await first.get("/reservations")).status_code == 200
        assert "Salle d'attente" not in text(await second.get("/suivi"))
        # The first parent's activity lapses: the second is let in with the same ticket.
        room: WaitingRoom = small_live.app.state.waiting_room
        assert isinstance(room.backend, MemoryBackend)
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
    await room.backend.touch("b", later)  # a leaves, b stays: one place
    # d asks first, but c is ahead: d still waits; c gets in.
    assert not (await room.decide("d", d.ticket, later)).admitted
    assert (await room.decide("c", c.ticket, later)).admitted
    assert read_ticket("s" * 32, sign_ticket("s" * 32, 7)) == 7
    assert read_ticket("s" * 32, "7.forged") is None


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
