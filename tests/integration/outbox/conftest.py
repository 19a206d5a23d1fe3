from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.settings import Settings
from portal.tasks import runtime
from tests.conftest import Database, SmtpSwitch, make_settings


@pytest.fixture
def mail_settings(db: Database, tmp_path: Path, smtp_switch: SmtpSwitch) -> Iterator[Settings]:
    """Settings pointing at the test SMTP server, used by actors and services."""
    settings = make_settings(
        tmp_path,
        db.url,
        PORTAL_SMTP_HOST=smtp_switch.sink.host,
        PORTAL_SMTP_PORT=smtp_switch.sink.port,
    )
    runtime.use_settings(settings)
    yield settings
