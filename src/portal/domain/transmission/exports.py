"""The nights' export files of a structure, as staff download them from the browser.

Files live under PORTAL_EXPORT_DIR/<slug>/transmission-<night>.csv (and .xlsx beside it,
written by `write_export`). A download names a night and a format, never a path: the path
is rebuilt here from a parsed date, so nothing typed in a URL reaches the file system.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

FORMATS = ("csv", "xlsx")
_FILE = re.compile(r"^transmission-(\d{4}-\d{2}-\d{2})\.(csv|xlsx)$")


@dataclass(frozen=True)
class NightExport:
    night: date
    formats: tuple[str, ...]  # "csv", "xlsx" that exist for that night

    @property
    def key(self) -> str:
        return self.night.isoformat()


def structure_dir(exports_dir: Path, slug: str) -> Path:
    return exports_dir / slug


def night_exports(exports_dir: Path, slug: str) -> list[NightExport]:
    """Every night with an export file, newest first."""
    folder = structure_dir(exports_dir, slug)
    if not folder.is_dir():
        return []
    found: dict[date, set[str]] = {}
    for entry in folder.iterdir():
        match = _FILE.match(entry.name)
        if match is None or not entry.is_file():
            continue
        try:
            night = date.fromisoformat(match.group(1))
        except ValueError:
            continue
        found.setdefault(night, set()).add(match.group(2))
    return [
        NightExport(night, tuple(f for f in FORMATS if f in formats))
        for night, formats in sorted(found.items(), reverse=True)
    ]


def parse_download(name: str) -> tuple[date, str] | None:
    """ "2026-12-01.csv" -> (night, "csv"); anything else None."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.(csv|xlsx)", name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1)), match.group(2)
    except ValueError:
        return None


def export_file(exports_dir: Path, slug: str, night: date, fmt: str) -> Path | None:
    """The file of that night and format in that structure's folder, if it was written."""
    if fmt not in FORMATS:
        return None
    path = structure_dir(exports_dir, slug) / f"transmission-{night.isoformat()}.{fmt}"
    return path if path.is_file() else None


def download_name(slug: str, night: date, fmt: str) -> str:
    return f"transmission-{slug}-{night.isoformat()}.{fmt}"
