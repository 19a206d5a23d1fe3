"""The wheel deploys: built, installed in a fresh venv, `portal migrate` and `portal serve`.

The venv gets the wheel only (no checkout on its path); the third-party dependencies come
from this test environment's site-packages through a .pth line, which keeps the test to
seconds and offline. Folders named in a .pth line are not site folders, so the editable
install of the checkout that lives there is not seen by the fresh venv.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], check=True, capture_output=True, text=True, timeout=300, **kwargs
    )  # type: ignore[call-overload]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ok(
    url: str, server: subprocess.Popen[str], log: Path, timeout: float = 90
) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        assert server.poll() is None, log.read_text()[-3000:]
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} never answered 200"
        time.sleep(0.2)


def test_the_wheel_migrates_and_serves_from_a_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation",
         "-q", "-w", dist)  # fmt: skip
    [wheel] = dist.glob("portail_famille-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "-q", wheel)  # fmt: skip
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                .stdout.strip())  # fmt: skip
    (site / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "run"  # no checkout around: nothing found by relative paths
    elsewhere.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "PORTAL_SECRET_KEY": "w" * 48,
    }
    where = _run(python, "-c", "import portal; print(portal.__file__)", cwd=elsewhere, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv)

    migrated = _run(venv / "bin" / "portal", "migrate", cwd=elsewhere, env=env)
    assert "Traceback" not in migrated.stderr

    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(venv / "bin" / "portal"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=elsewhere, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ok(f"{base}/healthz", server, log)
            assert "body" in _wait_ok(f"{base}/static/app.css", server, log).text
            assert _wait_ok(f"{base}/manifest.webmanifest", server, log).json()["name"]
            assert "<form" in _wait_ok(f"{base}/connexion", server, log).text
        finally:
            server.terminate()
            server.wait(timeout=30)
