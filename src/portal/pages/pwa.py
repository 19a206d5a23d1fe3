"""Installable app: the service worker at the site root and the offline page it shows.

The worker's source is ``static/sw.js``; this route writes into it the deployment's version
(a hash of the static files, the manifest and the offline page's templates) and the list of
files to keep, so that any change to them installs a new worker which deletes the old caches.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.response import File, Template

from portal.resources import manifest_path, static_dir

STATIC_DIR = static_dir()
MANIFEST = manifest_path()
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
SW_SOURCE = STATIC_DIR / "sw.js"
OFFLINE_URL = "/hors-ligne"
# What the offline page needs, plus the small icons; the big ones only matter to installers.
PRECACHED_ICONS = ("icons/icon.svg", "icons/icon-192.png", "icons/apple-touch-icon.png")
CONFIG_RE = re.compile(r"/\*CONFIG\*/.*?/\*END CONFIG\*/", re.DOTALL)

_versions: dict[tuple[tuple[str, int, int], ...], str] = {}


def _versioned_files(static_dir: Path) -> list[Path]:
    files = sorted(p for p in static_dir.rglob("*") if p.is_file())
    extra = [MANIFEST, TEMPLATES_DIR / "base.html", TEMPLATES_DIR / "pages" / "offline.html"]
    return files + [p for p in extra if p.exists()]


def static_version(static_dir: Path = STATIC_DIR, salt: str = "") -> str:
    """A short hash of everything the worker caches; changes whenever one of them does."""
    files = _versioned_files(static_dir)
    signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    key = (*signature, (salt, 0, 0))
    if key not in _versions:
        digest = hashlib.sha256(salt.encode())
        for path in files:
            # Names relative to their folder: two installs of one release agree.
            base = static_dir if path.is_relative_to(static_dir) else path.parent.parent
            digest.update(str(path.relative_to(base)).encode() + b"\0")
            digest.update(path.read_bytes())
        if len(_versions) > 16:  # files edited in development: keep the cache small
            _versions.clear()
        _versions[key] = digest.hexdigest()[:16]
    return _versions[key]


def _template_globals(request: Request[Any, Any, Any]) -> dict[str, Any]:
    engine = getattr(request.app, "template_engine", None)
    env = getattr(engine, "engine", None)
    return dict(getattr(env, "globals", {}))


def worker_config(request: Request[Any, Any, Any]) -> dict[str, Any]:
    names = _template_globals(request)
    # The same URLs the pages ask for (the query string busts the HTTP cache).
    asset_version = str(names.get("asset_version", ""))
    htmx_file = str(names.get("htmx_file", "htmx.min.js"))
    precache = [
        OFFLINE_URL,
        f"/static/app.css?v={asset_version}",
        f"/static/app.js?v={asset_version}",
        f"/static/boot.js?v={asset_version}",
        f"/static/family.js?v={asset_version}",
        f"/static/icons/icon.svg?v={asset_version}",
        f"/static/{htmx_file}",
        "/manifest.webmanifest",
        *(f"/static/{name}" for name in PRECACHED_ICONS),
    ]
    return {
        "version": static_version(salt=asset_version),
        "offline": OFFLINE_URL,
        "precache": precache,
    }


def render_worker(config: dict[str, Any], source: str | None = None) -> str:
    source = SW_SOURCE.read_text(encoding="utf-8") if source is None else source
    # json.dumps escapes nothing dangerous here: every value is ours.
    return CONFIG_RE.sub(lambda _: json.dumps(config, ensure_ascii=True), source, count=1)


@get("/sw.js", opt={"public": True, "skip_session": True}, include_in_schema=False)
async def service_worker(request: Request[Any, Any, Any]) -> Response[str]:
    return Response(
        content=render_worker(worker_config(request)),
        media_type="text/javascript; charset=utf-8",
        headers={
            "service-worker-allowed": "/",
            # The browser checks for a new worker at each visit; never a stale one.
            "cache-control": "no-cache",
        },
    )


@get(OFFLINE_URL, opt={"public": True}, include_in_schema=False)
async def offline_page() -> Template:
    # Built without the session: no account, no one-shot messages, no CSRF token, because
    # the service worker keeps this page after logout.
    return Template(
        template_name="pages/offline.html",
        context={
            "layout": None,
            "flash_messages": [],
            "offline": True,
            "page_title": "Hors ligne",
        },
        headers={"cache-control": "no-cache"},
    )


@get("/favicon.ico", opt={"public": True, "skip_session": True}, include_in_schema=False)
async def favicon() -> File:
    """Browsers ask for it on pages that name no icon (piccolo-admin's /admin/): the app's."""
    return File(
        path=STATIC_DIR / "icons" / "icon-192.png",
        media_type="image/png",
        content_disposition_type="inline",
        headers={"cache-control": "public, max-age=86400"},
    )


ROUTES = [service_worker, offline_page, favicon]
