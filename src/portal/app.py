"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment
from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import File, Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.template.config import TemplateConfig
from piccolo.engine.base import Engine
from redis import exceptions as redis_exceptions

from portal import clock
from portal.db import (
    DatabaseUnavailable,
    close_pool,
    current_engine,
    is_outage,
    is_sqlite,
    make_engine,
    start_pool,
    use_engine,
)
from portal.domain.errors import NotFound, ReadOnly
from portal.pages import absences as parent_absences
from portal.pages import (
    auth,
    booking,
    calendar_feed,
    enrolment,
    family_file,
    home,
    money,
    onboarding,
    profile,
    pwa,
    staff,
    tracking,
    week_pattern,
)
from portal.pages import glance as offline_glance
from portal.pages import messages as parent_messages
from portal.pages import notifications as parent_notifications
from portal.pages import papers as money_papers
from portal.pages import periods as booking_periods
from portal.pages import reminders as money_reminders
from portal.pages import sepa as money_sepa
from portal.pages.staff import absences as staff_absences
from portal.pages.staff import family_file as staff_family_file
from portal.pages.staff import file_settings as staff_file_settings
from portal.pages.staff import messages as staff_messages
from portal.pages.staff import periods as staff_periods
from portal.pages.staff import regie as staff_regie
from portal.pages.staff import reminders as staff_reminders
from portal.pages.staff import sepa as staff_sepa
from portal.pages.staff import statements as staff_statements
from portal.resources import manifest_path, static_dir
from portal.settings import Settings
from portal.tasks.runtime import BackgroundRuntime
from portal.web.admin import admin_mount
from portal.web.booking_desk import TEMPLATE_DEFAULTS as BOOKING_TEMPLATE_DEFAULTS
from portal.web.caching import http_caching
from portal.web.context import RedirectTo, load_parent
from portal.web.csrf import SessionCSRFMiddleware
from portal.web.forms import bounded_path_params
from portal.web.head import head_as_get
from portal.web.redis_store import DeadlineRedisStore
from portal.web.security import security_headers
from portal.web.sessions import PortalSessionConfig, parent_holder
from portal.web.staff import staff_context
from portal.web.waiting_room import room_for, waiting_room_middleware

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = static_dir()
MANIFEST = manifest_path()


def _htmx_file() -> str:
    found = sorted(STATIC_DIR.glob("htmx-*.min.js"))
    return found[-1].name if found else "htmx.min.js"


def _asset_version() -> str:
    digest = hashlib.sha256()
    for name in ("app.css", "app.js", "boot.js", "icons/icon.svg"):
        path = STATIC_DIR / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _configure_jinja(engine: JinjaTemplateEngine, settings: Settings) -> None:
    env: Environment = engine.engine
    env.auto_reload = settings.template_reload
    env.globals["htmx_file"] = _htmx_file()
    env.globals["asset_version"] = _asset_version()
    env.filters["euros"] = _euros
    env.filters["local_date"] = _local_date
    env.globals.update(BOOKING_TEMPLATE_DEFAULTS)
    env.filters["plural"] = _plural


def _euros(cents: int | None) -> str:
    from portal.domain.money_format import format_euros

    return "" if cents is None else format_euros(int(cents))


def _local_date(value: datetime | date | None, tz_name: str = clock.DEFAULT_TIMEZONE) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz_name)).date()
    return value.strftime("%d/%m/%Y")


def _plural(n: int, singular: str, plural: str) -> str:
    """ "0 place", "1 place", "3 places": French agreement instead of "place(s)"."""
    from portal.domain.paging.rules import count_label

    return count_label(int(n), singular, plural)


# The embedded set-up's stores (session files, the throttle's counters in memory) drop an
# expired entry only when it is read again; most never are (a session ended by its idle
# limit, a failed login never retried), so they are swept on a schedule. Redis expires
# its own keys.
STORE_SWEEP_SECONDS = 600


async def _sweep_files(store: FileStore) -> None:
    """Litestar's FileStore.delete_expired, file by file: one unreadable file (a write in
    progress, a stray file) made it give up on every file after it, on every pass."""
    async for path in store.path.iterdir():
        if ".tmp" in path.name:
            continue  # being written
        try:
            if StorageObject.from_bytes(await path.read_bytes()).expired:
                await path.unlink(missing_ok=True)
        except Exception:  # noqa: S112 (not ours, or gone meanwhile: leave it)
            continue


async def _sweep_expired(stores: list[FileStore | MemoryStore]) -> None:
    while True:
        for store in stores:
            try:
                if isinstance(store, FileStore):
                    await _sweep_files(store)
                else:
                    await store.delete_expired()
            except Exception:  # the directory gone, a full disk: try again later
                log.warning("nettoyage des sessions expirées impossible", exc_info=True)
        await asyncio.sleep(STORE_SWEEP_SECONDS)


def _stores(settings: Settings) -> dict[str, Store]:
    if settings.redis_url:
        root = DeadlineRedisStore.connect(settings.redis_url, namespace="portal")
        return {
            "sessions": root.with_namespace("sessions"),
            "throttle": root.with_namespace("throttle"),
        }
    settings.session_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return {"sessions": FileStore(path=settings.session_dir), "throttle": MemoryStore()}


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    # Browsers (and curl's */*) get the French page; JSON only for clients that ask for it.
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _redirect_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, RedirectTo)
    if request.headers.get("hx-request"):
        # htmx would swap a redirected page into a fragment; ask it to navigate instead.
        return Response(content="", status_code=200, headers={"HX-Redirect": exc.location})
    return Redirect(path=exc.location, status_code=303)


ERROR_TITLES = {
    400: "Demande incorrecte",
    401: "Connexion nécessaire",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Action non permise",
    409: "Demande déjà traitée",
    410: "Lien expiré",
    413: "Envoi trop volumineux",
    429: "Trop de demandes",
    500: "Erreur interne",
    503: "Service indisponible",
}

DEFAULT_DETAILS = {
    400: "Les informations envoyées sont incomplètes ou incorrectes.",
    403: "Cette action n'est pas permise. Rechargez la page et réessayez.",
    404: "Cette page n'existe pas ou n'est pas accessible avec votre compte.",
    405: "Cette action n'est pas permise ici.",
    413: "L'envoi est trop volumineux : réduisez la taille du fichier puis recommencez.",
    500: "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez plus tard.",
    503: "Le service est momentanément indisponible. Réessayez dans quelques minutes : "
    "vos demandes déjà validées sont enregistrées.",
}

# Public resources that never need a session: no store round-trip, no cookie.
NO_SESSION = {"public": True, "skip_session": True}

# Connection failures of the database or of Redis (sessions, throttling).
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    redis_exceptions.ConnectionError,
    redis_exceptions.TimeoutError,
    ConnectionError,
    DatabaseUnavailable,
)


def _french_detail(status: int, detail: str) -> str:
    # Litestar's own messages are in English; keep ours (French) and replace the others.
    if not detail or (detail.isascii() and status in DEFAULT_DETAILS):
        return DEFAULT_DETAILS.get(status, detail)
    return detail


def _not_found_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Any area's NotFound is the French 404 page (what was asked for stays unsaid)."""
    return _error_handler(request, NotFoundException())


def _read_only_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A change to a record kept as is (an archived school year): 409, the reason in French."""
    return _error_handler(request, HTTPException(status_code=409, detail=str(exc)))


def _error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, HTTPException):
        status = exc.status_code
        detail = str(exc.detail or "")
        if isinstance(exc, ValidationException):
            status, detail = 400, DEFAULT_DETAILS[400]
        if status == 403 and "csrf" in detail.lower():
            detail = "Le formulaire a expiré. Rechargez la page puis recommencez."
    elif isinstance(exc, UNAVAILABLE_ERRORS) or is_outage(exc):
        # A backing service is down: say so and invite a retry, rather than "internal error".
        log.error("service indisponible sur %s %s : %r", request.method, request.url.path, exc)
        status, detail = 503, DEFAULT_DETAILS[503]
        exc = HTTPException(status_code=503, headers={"retry-after": "30"})
    else:
        log.exception("erreur non gérée sur %s %s", request.method, request.url.path, exc_info=exc)
        status, detail = 500, ""
    detail = _french_detail(status, detail)
    title = ERROR_TITLES.get(status, "Erreur")
    headers = getattr(exc, "headers", None) or {}
    if _wants_json(request) or request.url.path.startswith("/healthz"):
        return Response(
            content={"status_code": status, "detail": detail},
            status_code=status,
            media_type=MediaType.JSON,
            headers=headers,
        )
    return Template(
        template_name="pages/error.html",
        status_code=status,
        context={
            "layout": None,
            "page_title": title,
            "title": title,
            "detail": detail,
            "status": status,
        },
        headers=headers,
    )


@get("/manifest.webmanifest", opt=NO_SESSION, include_in_schema=False)
async def manifest() -> File:
    return File(
        path=MANIFEST,
        media_type="application/manifest+json",
        content_disposition_type="inline",
        headers={"cache-control": "public, max-age=3600"},
    )


async def _ping_redis(url: str) -> dict[str, str]:
    import redis.asyncio as redis_async

    client = redis_async.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
        return {"status": "ok"}
    except Exception as exc:  # connection refused, timeout, auth...
        return {"status": "erreur", "detail": type(exc).__name__}
    finally:
        await client.aclose()


@get("/healthz", include_in_schema=False, opt=NO_SESSION)
async def healthz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    settings: Settings = request.app.state.settings
    report: dict[str, Any] = {"database": {"engine": "sqlite" if is_sqlite() else "postgresql"}}
    healthy = True
    try:
        await current_engine().run_ddl("SELECT 1")
        report["database"]["status"] = "ok"
    except Exception as exc:  # any driver error means "down" here
        healthy = False
        report["database"]["status"] = "erreur"
        report["database"]["detail"] = type(exc).__name__
    if settings.redis_url:
        report["redis"] = await _ping_redis(settings.redis_url)
        healthy = healthy and report["redis"]["status"] == "ok"
    # The broker of the background work (nightly run, e-mails): Redis, or in-process.
    if settings.broker_url:
        same = settings.broker_url == settings.redis_url
        broker = report["redis"] if same else await _ping_redis(settings.broker_url)
        report["broker"] = {"kind": "redis", **broker}
        healthy = healthy and broker["status"] == "ok"
    else:
        report["broker"] = {
            "kind": "intégré" if settings.embedded_worker else "aucun",
            "status": "ok" if settings.embedded_worker else "désactivé",
        }
    report["status"] = "ok" if healthy else "erreur"
    return Response(content=report, status_code=200 if healthy else 503)


def create_app(settings: Settings | None = None, engine: Engine[Any] | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings)
    use_engine(engine)
    stores = _stores(settings)
    # Broker for these settings; without Redis, the embedded worker and scheduler.
    background = BackgroundRuntime(settings)

    owns_pool = False
    sweeper: asyncio.Task[None] | None = None

    async def on_startup(app: Litestar) -> None:
        nonlocal owns_pool, sweeper
        use_engine(engine)
        # A pool started by someone else (a test, the CLI) is theirs to close.
        if getattr(engine, "pool", True) is None:
            await start_pool(engine)
            owns_pool = True
        local = [s for s in stores.values() if isinstance(s, FileStore | MemoryStore)]
        if local:
            sweeper = asyncio.get_running_loop().create_task(_sweep_expired(local))
        await background.start()

    async def on_shutdown(app: Litestar) -> None:
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        await background.stop()
        if owns_pool:
            await close_pool(engine)

    session_config = PortalSessionConfig(
        key="portal_session",
        max_age=settings.session_max_seconds,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="lax",
        store="sessions",
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="portal_csrf",
        cookie_secure=settings.cookie_secure,
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name="x-csrftoken",
        exclude=["/healthz"],
    )
    static = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=3600, public=True),
        include_in_schema=False,
        opt=NO_SESSION,
    )
    app = Litestar(
        route_handlers=[
            static,
            manifest,
            healthz,
            *pwa.ROUTES,
            *auth.ROUTES,
            *onboarding.ROUTES,
            *home.ROUTES,
            *profile.ROUTES,
            *money.ROUTES,
            *staff.ROUTES,
            admin_mount(settings),
            *booking.ROUTES,
            *tracking.ROUTES,
            # family file ("Mon dossier", documents, staff checks)
            *family_file.ROUTES,
            # money papers and the régie (statements, receipts, certificates)
            *money_papers.ROUTES,
            *staff_regie.ROUTES,
            *money_sepa.ROUTES,
            *staff_sepa.ROUTES,
            *money_reminders.ROUTES,
            *staff_reminders.ROUTES,
            *staff_statements.ROUTES,
            *staff_file_settings.ROUTES,
            *staff_family_file.ROUTES,
            *enrolment.ROUTES,
            # booking periods (scheduled openings, allocation)
            *booking_periods.ROUTES,
            *staff_periods.ROUTES,
            *parent_notifications.ROUTES,
            *parent_messages.ROUTES,
            *offline_glance.ROUTES,
            *staff_messages.ROUTES,
            # parents' tools (semaine type, enfant malade, calendar feed)
            *week_pattern.ROUTES,
            *parent_absences.ROUTES,
            *staff_absences.ROUTES,
            *calendar_feed.ROUTES,
        ],
        dependencies={
            "parent": Provide(load_parent),
            "member": Provide(staff.load_staff),
            "ctx": Provide(staff_context),
        },
        guards=[bounded_path_params],
        # Sessions first: the CSRF check binds tokens to the session it loads.
        middleware=[session_config.middleware, SessionCSRFMiddleware(csrf)],
        # Brotli for browsers that take it (all current ones), gzip otherwise; already
        # compressed images are left alone.
        compression_config=CompressionConfig(
            backend="brotli",
            # Quality 4 and a 256 KiB window: a month board in 2.8 KB instead of 2.6 at
            # two thirds of quality 5's CPU (190 -> 120 us), and a smaller compressor to
            # allocate per response; our pages are far below the window.
            brotli_quality=4,
            brotli_lgwin=18,
            brotli_gzip_fallback=True,
            gzip_compress_level=6,
            minimum_size=500,
            exclude=[r"\.png$", "^/admin"],
        ),
        stores=stores,
        template_config=TemplateConfig(
            directory=TEMPLATES_DIR,
            engine=JinjaTemplateEngine,
            engine_callback=functools.partial(_configure_jinja, settings=settings),
        ),
        plugins=[HTMXPlugin()],
        exception_handlers={
            NotFound: _not_found_handler,
            ReadOnly: _read_only_handler,
            RedirectTo: _redirect_handler,
            Exception: _error_handler,
        },
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        openapi_config=None,
        debug=False,
    )
    # In front of the router, so that its own 404 and 405 get them too.
    # Caching outermost: it sees the final headers (the no-store of personal pages).
    handler = head_as_get(app.asgi_handler)
    room = room_for(settings)
    if room is not None:
        # Before the session and the database: a waiting parent costs a counter read.
        app.state.waiting_room = room
        handler = waiting_room_middleware(
            handler,
            room,
            settings.base_url.startswith("https"),
            session_holder=functools.partial(parent_holder, stores["sessions"]),
        )
    app.asgi_handler = http_caching(security_headers(handler))
    app.state.settings = settings
    app.state.engine = engine
    app.state.background = background
    return app
