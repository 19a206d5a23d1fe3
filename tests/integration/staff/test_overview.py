"""The dashboard and the outbox, scoped to the structure's families."""

from __future__ import annotations

from portal.domain.staff import overview
from portal.tables import Movement, OutboxEmail
from tests.conftest import Database
from tests.factories import make_world, today


async def _email(key: str, status: str = "sent") -> None:
    await OutboxEmail(
        dedupe_key=key, to_addresses="x@example.fr", subject=key, body_text="…", status=status
    ).save()


async def test_outbox_shows_the_structure_families_only(db: Database) -> None:
    mine = await make_world()
    theirs = await make_world("Mairie de Loinville", prefix="b")
    movement = Movement(
        family=theirs.family.family.id, reservation=theirs.accepted[0].id, kind="promotion",
        outcome="accepted",
    )  # fmt: skip
    await movement.save()
    await _email(f"report:{mine.family.family.id}:1", "failed")
    await _email(f"report:{theirs.family.family.id}:2")
    await _email(f"promotion:{movement.id}")
    await _email("password-reset:abc")

    agent_view = [e.subject for e in await overview.outbox(mine.sid, is_admin=False)]
    other_view = [e.subject for e in await overview.outbox(theirs.sid, is_admin=False)]
    admin_view = await overview.outbox(mine.sid, is_admin=True)

    assert agent_view == [f"report:{mine.family.family.id}:1"]
    assert other_view == [f"promotion:{movement.id}", f"report:{theirs.family.family.id}:2"]
    assert len(admin_view) == 4
    board = await overview.dashboard(mine.sid, today(), None, is_admin=False)
    assert board.failed_emails == 1
    assert (board.pending_total, board.waitlisted_total) == (2, 2)
    other_board = await overview.dashboard(theirs.sid, today(), None, is_admin=False)
    assert other_board.failed_emails == 0
