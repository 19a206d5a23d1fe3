"""Operator knobs: the broker in /healthz, the keep-alive setting, `serve --workers`."""

from __future__ import annotations

from pathlib import Path

from portal.settings import Settings
from tests.conftest import Database
from tests.test_cli import run_portal
from tests.web.conftest import Browser


async def test_healthz_reports_the_broker(db: Database, browser: Browser) -> None:
    response = await browser.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == {"kind": "intégré", "status": "ok"}


def test_keepalive_is_a_setting(tmp_path: Path) -> None:
    env = {"PORTAL_VAR_DIR": str(tmp_path), "PORTAL_SECRET_KEY": "k" * 40}
    assert Settings.from_env(env).keepalive_seconds == 75
    assert Settings.from_env({**env, "PORTAL_KEEPALIVE_SECONDS": "120"}).keepalive_seconds == 120


def test_several_workers_need_redis(tmp_path: Path) -> None:
    assert run_portal(tmp_path, "migrate").returncode == 0
    result = run_portal(tmp_path, "serve", "--workers", "2")
    assert result.returncode == 2
    assert "--workers > 1 demande Redis" in result.stderr + result.stdout
    bad = run_portal(tmp_path, "serve", "--workers", "0")
    assert bad.returncode == 2 and "entre 1 et 64" in bad.stderr
