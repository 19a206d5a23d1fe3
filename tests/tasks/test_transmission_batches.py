"""The set-based night: batches give the same outcome, and a process killed in the middle
of a batch (os._exit, no cleanup) loses and repeats nothing when the night runs again."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from portal.domain.outbox.service import relay_due
from portal.domain.transmission import service
from portal.domain.transmission.service import run_transmission
from portal.settings import Settings
from portal.tables import Movement, OutboxEmail, Reservation, Structure
from tests.conftest import Database, SmtpSwitch
from tests.factories import Night
from tests.tasks.processes import portal_env


async def _report_keys() -> list[str]:
    rows = await OutboxEmail.select(OutboxEmail.dedupe_key).where(
        OutboxEmail.dedupe_key.like("report:%")
    )
    return sorted(r["dedupe_key"] for r in rows)


def _expected_keys(night: Night) -> list[str]:
    keys = []
    for name in night.reporting:
        family_id = night.families[name].family.id
        last = max(m.id for m in night.movements if m.family == family_id)
        keys.append(f"report:{family_id}:{last}")
    return sorted(keys)


async def _movements(night: Night) -> list[dict[str, Any]]:
    return await (
        Movement.select(Movement.id, Movement.transmitted_at, Movement.reported_at)
        .where(Movement.family.structure == night.structure.id)
        .order_by(Movement.id)
    )


async def test_small_batches_give_the_same_night(
    db: Database,
    mail_settings: Settings,
    night: Night,
    smtp_switch: SmtpSwitch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service, "TRANSMIT_BATCH", 2)
    monkeypatch.setattr(service, "REPORT_BATCH", 1)
    report = await run_transmission(night.structure.id, settings=mail_settings)
    assert (report.movements_transmitted, report.reservations_transmitted) == (9, 8)
    assert (report.families_reported, report.emails_queued) == (4, 3)
    assert await _report_keys() == _expected_keys(night)
    rows = await _movements(night)
    assert {r["transmitted_at"] for r in rows} == {report.transmitted_at}
    assert {r["reported_at"] for r in rows} == {report.transmitted_at}
    assert (await relay_due(mail_settings)).sent == 3


# A night run in a process of its own, which dies (os._exit: no rollback, no cleanup)
# the `die_at`-th time `function` of the transmission service is called.
_KILLED_NIGHT = textwrap.dedent(
    """
    import asyncio, os, sys
    from portal.db import make_engine, start_pool, use_engine
    from portal.domain.transmission import service
    from portal.settings import Settings

    structure_id, function, die_at = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    service.TRANSMIT_BATCH, service.REPORT_BATCH = 2, 1
    real = getattr(service, function)
    calls = 0

    def dying(*args, **kwargs):
        global calls
        calls += 1
        if calls == die_at:
            os._exit(137)
        return real(*args, **kwargs)

    setattr(service, function, dying)

    async def main():
        settings = Settings.from_env()
        engine = make_engine(settings)
        use_engine(engine)
        await start_pool(engine)
        await service.run_transmission(structure_id, settings=settings)

    asyncio.run(main())
    """
)


@pytest.mark.parametrize(
    ("function", "die_at", "transmitted_before"),
    [
        # In the second transmit batch, after its movements' UPDATE, before the commit.
        ("sql_ids", 2, 2),
        # In the second family's report transaction, after its movements were claimed,
        # before its e-mail is written and the transaction commits.
        ("queue_emails", 2, 9),
    ],
    ids=["during-transmit", "during-reports"],
)
async def test_a_night_killed_in_a_batch_then_run_again_does_everything_once(
    db: Database,
    mail_settings: Settings,
    night: Night,
    smtp_switch: SmtpSwitch,
    function: str,
    die_at: int,
    transmitted_before: int,
) -> None:
    killed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", _KILLED_NIGHT, str(night.structure.id), function, str(die_at)],
        env=portal_env(mail_settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == 137, killed.stderr
    first = await _movements(night)
    assert sum(r["transmitted_at"] is not None for r in first) == transmitted_before
    reported_families = len(await _report_keys())
    assert reported_families == (1 if transmitted_before == 9 else 0)
    structure = await Structure.objects().get(Structure.id == night.structure.id)
    assert structure is not None and structure.last_transmission_at is None  # still due

    again = await run_transmission(night.structure.id, settings=mail_settings)
    assert again.movements_transmitted == 9 - transmitted_before
    after = await _movements(night)
    # Each movement transmitted once: what the killed run committed kept its instant.
    for before, now in zip(first, after, strict=True):
        assert now["transmitted_at"] is not None and now["reported_at"] is not None
        if before["transmitted_at"] is not None:
            assert now["transmitted_at"] == before["transmitted_at"]
    reservations = await Reservation.select(Reservation.transmitted_at).where(
        Reservation.family.structure == night.structure.id
    )
    assert None not in {r["transmitted_at"] for r in reservations}
    # Each family one report, whichever run queued it.
    assert await _report_keys() == _expected_keys(night)
    assert (await relay_due(mail_settings)).sent == 3
    messages = await smtp_switch.sink.wait_for(3)
    assert len(messages) == 3
