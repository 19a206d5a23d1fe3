"""`portal serve` without Redis: the worker and the scheduler live in the web process."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from portal import clock
from portal.tables import Structure
from portal.tasks.runtime import BackgroundRuntime
from tests.conftest import Database, SmtpSwitch, make_settings
from tests.factories import Night
from tests.web.conftest import LiveServer


async def test_embedded_worker_catches_up_the_missed_night_at_start(
    db: Database, night: Night, smtp_switch: SmtpSwitch, tmp_path: Path
) -> None:
    last_week = clock.utcnow() - timedelta(days=7)
    await Structure.update({Structure.last_transmission_at: last_week}).where(Structure.id > 0)
    settings = make_settings(
        tmp_path,
        db.url,
        PORTAL_SMTP_HOST=smtp_switch.sink.host,
        PORTAL_SMTP_PORT=smtp_switch.sink.port,
    )
    async with LiveServer(settings, db) as server:
        background: BackgroundRuntime = server.app.state.background
        assert background.embedded and background.worker is not None
        # The sweep at start enqueued both nights; the embedded worker ran them on the
        # web loop (its database pool) and relayed the reports.
        messages = await smtp_switch.sink.wait_for(4)
    assert background.worker is None and background.scheduler_task is None
    assert sorted(m["To"].split(",")[0] for m in messages) == [
        "eva@example.fr",
        "jp@example.fr",
        "luc@example.fr",
        "sophie@example.fr",
    ]
    structures = await Structure.select(Structure.last_transmission_at)
    assert all(s["last_transmission_at"] > last_week for s in structures)


async def test_no_embedded_worker_when_a_broker_is_configured(db: Database, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, db.url, PORTAL_BROKER_URL="redis://127.0.0.1:1/0")
    async with LiveServer(settings, db) as server:
        background: BackgroundRuntime = server.app.state.background
        assert not background.embedded and background.worker is None
    off = make_settings(tmp_path, db.url, PORTAL_EMBEDDED_WORKER="false")
    assert not BackgroundRuntime(off).embedded
