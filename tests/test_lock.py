"""The dependency lock: make refuses loudly to install when pyproject.toml moved without it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[1]
MAKE = shutil.which("make") or "make"


def _check_lock(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAKE, "--no-print-directory", "check-lock"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_lock_matches_pyproject_and_pins_with_hashes() -> None:
    result = _check_lock(ROOT)
    assert result.returncode == 0, result.stderr
    lock = (ROOT / "requirements.lock").read_text()
    pins = [line for line in lock.splitlines() if "==" in line and not line.startswith("#")]
    assert len(pins) > 50 and all(line.endswith("\\") for line in pins)  # each with its hashes
    for name in ("litestar==", "piccolo==", "asyncpg==", "pip-audit==", "uv=="):
        assert any(line.startswith(name) for line in pins), name


def test_a_dependency_added_without_make_lock_stops_make(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text()
    added = text.replace("dependencies = [\n", 'dependencies = [\n    "six>=1.16",\n', 1)
    pyproject.write_text(added)
    result = _check_lock(tmp_path)
    assert result.returncode != 0
    assert "make lock" in result.stderr and "requirements.lock" in result.stderr
    # A change elsewhere in pyproject.toml (a tool setting) does not need a new lock.
    pyproject.write_text(text + "\n# a comment\n")
    assert _check_lock(tmp_path).returncode == 0
