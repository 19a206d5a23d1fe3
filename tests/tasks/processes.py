"""Running `portal` commands as real processes against the test's database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from portal.settings import Settings


def portal_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        {
            "PORTAL_DATABASE_URL": settings.database_url,
            "PORTAL_VAR_DIR": str(settings.var_dir),
            "PORTAL_SECRET_KEY": settings.secret_key,
            "PORTAL_BASE_URL": settings.base_url,
            "PORTAL_SMTP_HOST": settings.smtp_host or "",
            "PORTAL_SMTP_PORT": str(settings.smtp_port),
        }
    )
    env.update(extra)
    return env


def run_portal(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def portal_process(*args: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    """A long-running `portal` command, stopped with SIGTERM at the end (exit code 0)."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode == 0, (
        f"{' '.join(args)} : code {process.returncode}\n{log.read_text()}"
    )
