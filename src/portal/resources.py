"""Where the files the app needs at run time are found: static/, migrations/, the manifest.

They sit at the top level of the repository (the product's layout). The wheel carries them
inside the package, in portal/_bundle/ (hatchling's force-include, see pyproject.toml), so
an installed `portal` finds them through importlib.resources wherever it is installed; an
editable install of a checkout has no such folder and uses the checkout's own top level.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

BUNDLE = "_bundle"


@cache
def bundle_root() -> Path:
    """The folder holding static/, migrations/ and manifest.webmanifest."""
    packaged = Path(str(resources.files("portal"))) / BUNDLE
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "migrations").is_dir() and (checkout / "static").is_dir():
        return checkout
    raise RuntimeError(  # a broken install, not a user error: say what is missing
        f"fichiers de l'application introuvables (ni {packaged}, ni {checkout}/static)"
    )


def static_dir() -> Path:
    return bundle_root() / "static"


def migrations_dir() -> Path:
    return bundle_root() / "migrations"


def manifest_path() -> Path:
    return bundle_root() / "manifest.webmanifest"
