"""The broker down (Redis on a closed port): the reset request still works, its e-mail waits
in the database and leaves once a relay runs again."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.domain.outbox.service import due_count
from portal.tables import OutboxEmail
from portal.tasks import broker as brokers
from portal.tasks import runtime
from portal.tasks.outbox import wake_outbox
from tests.conftest import Database, SmtpSwitch, mail_text, make_settings
from tests.factories import make_family
from tests.web.conftest import Browser, LiveServer

CLOSED = "redis://127.0.0.1:1/0"


@pytest.fixture
def back_to_in_process_broker() -> Iterator[None]:
    yield
    brokers.configure_broker(None)


async def test_reset_request_survives_the_broker_and_is_sent_later(
    db: Database, smtp_switch: SmtpSwitch, tmp_path: Path, back_to_in_process_broker: None
) -> None:
    await make_family(login="dupont", emails="jp@example.fr")
    settings = make_settings(
        tmp_path,
        db.url,
        PORTAL_BROKER_URL=CLOSED,
        PORTAL_SMTP_HOST=smtp_switch.sink.host,
        PORTAL_SMTP_PORT=smtp_switch.sink.port,
    )
    async with LiveServer(settings, db) as server:
        assert brokers.current_url() == CLOSED
        async with Browser(base_url=server.url, follow_redirects=False, timeout=30) as browser:
            page = await browser.submit(
                "/mot-de-passe-oublie", {"identifier": "dupont", "email": "jp@example.fr"}
            )
            assert page.status_code == 200
            assert "Si l'identifiant et l'adresse e-mail correspondent" in page.text
            await asyncio.sleep(0.3)  # the background wake-up failed quietly
    [row] = await OutboxEmail.objects()
    assert (row.status, row.attempts) == ("pending", 0)
    assert await due_count() == 1
    assert smtp_switch.sink.messages == []
    await wake_outbox()  # still down: logged, not raised

    # The broker is back (here: the in-process one, with a worker in this process).
    brokers.configure_broker(None)
    runtime.use_settings(settings)
    worker = runtime.start_worker(asyncio.get_running_loop(), threads=1, timeout_ms=50)
    try:
        await wake_outbox()
        [message] = await smtp_switch.sink.wait_for(1)
    finally:
        await asyncio.to_thread(runtime.stop_worker, worker)
    assert re.search(r"http://testserver.local/reinitialiser/\S+", mail_text(message))
    [row] = await OutboxEmail.objects()
    assert (row.status, row.attempts) == ("sent", 1)
