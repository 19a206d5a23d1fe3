"""piccolo-admin at /admin/: raw tables for administrators, behind the staff session.

Authentication: piccolo-admin normally logs users in against Piccolo's ``BaseUser`` table
with its own session table. We keep a single staff login instead. The gate below lets a
request through only for a live staff session (the /gestion login) whose StaffMember is an
administrator, read from the database on every request (revoking the role takes effect at
once); the admin's own ``SessionsAuthBackend`` is replaced by one that reads the member the
gate approved, presented to piccolo-admin as an in-memory, never-saved ``BaseUser``. So no
second account, password or session table exists, and piccolo-admin's own login and
password-change endpoints are never reachable (the gate answers first).

Every change made through the admin is audited: unsafe requests run inside one write
transaction with the admin's pre-save/patch/delete hooks writing the AuditLog entry, and
the transaction commits only when the admin answers with a success status.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, cast
from urllib.parse import urlsplit

from litestar import asgi
from litestar.handlers.asgi_handlers import ASGIRouteHandler
from litestar.types import (
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)
from piccolo.apps.user.tables import BaseUser
from piccolo.columns import Column
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig, create_admin
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.crud.hooks import Hook, HookType
from piccolo_api.crud.validators import Validators
from piccolo_api.shared.auth import User
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.routing import Mount

from portal.db import write_transaction
from portal.domain.numbers import parse_int
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.settings import Settings
from portal.tables import (
    ALL_TABLES,
    Account,
    AuditLog,
    StaffMember,
    StaffRecoveryCode,
    StaffTotp,
)
from portal.web.sessions import mark_seen
from portal.web.staff import MFA_URL, PROFILE_URL, staff_from_session

log = logging.getLogger(__name__)

SCOPE_KEY = "portal.staff_admin"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A syntactically valid pbkdf2 string: BaseUser() would otherwise hash an empty password.
_NO_PASSWORD = "pbkdf2_sha256$1$none$none"  # noqa: S105 (not a credential)
_SECRET_COLUMNS = {
    Account: [Account.password_hash],
    StaffMember: [StaffMember.password_hash],
    StaffTotp: [StaffTotp.secret],
    StaffRecoveryCode: [StaffRecoveryCode.code_hash],
}


class _Rollback(Exception):
    """The admin answered with an error: undo whatever it wrote, audit entry included."""


# --- authentication --------------------------------------------------------------------


class StaffAdminBackend(AuthenticationBackend):
    """The administrator approved by the gate, as the user piccolo-admin expects."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, User]:
        member = conn.scope.get(SCOPE_KEY)
        if not isinstance(member, StaffMember) or not member.is_admin:
            raise AuthenticationError("Réservé aux administrateurs.")
        user = BaseUser(  # type: ignore[no-untyped-call]
            id=member.id,
            username=member.login,
            first_name=member.display_name,
            admin=True,
            superuser=True,
            active=True,
            password=_NO_PASSWORD,
        )
        return AuthCredentials(scopes=["authenticated"]), User(user=user)


def use_staff_backend(admin: Any) -> None:
    """Swap the admin API's session backend for ours (piccolo-admin has no option for it)."""
    for route in admin.routes:
        if isinstance(route, Mount) and route.path == "/api":
            middleware = route.app
            assert isinstance(middleware, AuthenticationMiddleware), type(middleware)
            middleware.backend = StaffAdminBackend()
            return
    raise RuntimeError("piccolo-admin : montage /api introuvable, authentification non branchée")


# --- audit hooks -----------------------------------------------------------------------


def _actor(request: Request) -> Actor:
    member = request.scope.get(SCOPE_KEY)
    assert isinstance(member, StaffMember)
    return Actor.of(member)


def _public(values: dict[str, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in values.items() if "password" not in str(k)}


def _audit_hooks(table: type[Table]) -> list[Hook]:
    name = table._meta.tablename
    pk = table._meta.primary_key

    async def pre_save(row: Table, request: Request) -> Table:
        await audit.record(
            _actor(request), "admin.create", structure_id=None, table=name,
            after=_public(row.to_dict()),
        )  # fmt: skip
        return row

    async def pre_patch(row_id: Any, values: dict[str, Any], request: Request) -> dict[str, Any]:
        current = await table.select().where(pk == row_id).first()
        after = _public({str(k): v for k, v in values.items()})
        before = _public({k: (current or {}).get(k) for k in after})
        await audit.record(
            _actor(request), "admin.update", structure_id=None, table=name,
            target_id=_int(row_id), before=before, after=after,
        )  # fmt: skip
        return values

    async def pre_delete(row_id: Any, request: Request) -> None:
        current = await table.select().where(pk == row_id).first()
        await audit.record(
            _actor(request), "admin.delete", structure_id=None, table=name,
            target_id=_int(row_id), before=_public(current or {}),
        )  # fmt: skip

    return [
        Hook(HookType.pre_save, pre_save),
        Hook(HookType.pre_patch, pre_patch),
        Hook(HookType.pre_delete, pre_delete),
    ]


def _int(value: Any) -> int | None:
    return parse_int(value if isinstance(value, int) else str(value))


def _refuse(message: str) -> Callable[[PiccoloCRUD, Request], Coroutine[Any, Any, None]]:
    async def validator(piccolo_crud: PiccoloCRUD, request: Request) -> None:
        raise StarletteHTTPException(status_code=405, detail=message)

    return validator


def table_configs() -> list[TableConfig]:
    no_bulk_delete = _refuse("Suppression groupée désactivée : supprimez ligne par ligne.")
    read_only = _refuse("Le journal d'audit ne se modifie pas.")
    configs = []
    for table in ALL_TABLES:
        if table is AuditLog:
            validators = Validators(
                post_single=[read_only], put_single=[read_only], patch_single=[read_only],
                delete_single=[read_only], delete_all=[read_only],
            )  # fmt: skip
            configs.append(TableConfig(table, validators=validators, menu_group="Journal"))
            continue
        configs.append(
            TableConfig(
                table,
                exclude_visible_columns=cast(list[Column] | None, _SECRET_COLUMNS.get(table)),
                hooks=_audit_hooks(table),
                validators=Validators(delete_all=[no_bulk_delete]),
                menu_group="Tables",
            )
        )
    return configs


def hide_password_hashes() -> None:
    """Keep password hashes out of the admin API (piccolo-admin omits ``secret`` columns).

    Marking the columns here, not in tables.py, changes nothing else: the portal's own
    queries never ask Piccolo to exclude secrets.
    """
    for table, columns in _SECRET_COLUMNS.items():
        for column in columns:
            column._meta.secret = True
            if column not in table._meta.secret_columns:
                table._meta.secret_columns.append(column)


def build_admin(settings: Settings) -> Any:
    """The piccolo-admin application, built once per process (and public host)."""
    return _shared_admin(urlsplit(settings.base_url).netloc, settings.cookie_secure)


@functools.cache
def _shared_admin(allowed_host: str, production: bool) -> Any:
    # One per process: piccolo-admin's FastAPI application weighs about 25 MB, and
    # FastAPI's module-level caches keep every instance ever built alive (each app that a
    # process creates, as the test suite does hundreds of times, would add its own).
    hide_password_hashes()
    admin = create_admin(
        tables=table_configs(),
        site_name="Portail Famille · tables",
        default_language_code="fr",
        allowed_hosts=[allowed_host],
        production=production,
        sidebar_links={"Espace gestion": "/gestion"},
        auto_include_related=False,
    )
    use_staff_backend(admin)
    return admin


# --- the gate --------------------------------------------------------------------------


async def _send_simple(send: Send, status: int, body: str, headers: dict[str, str]) -> None:
    payload = body.encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(payload)).encode()),
            *[(k.encode(), v.encode()) for k, v in headers.items()],
        ],
    }
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": payload, "more_body": False}
    await send(start)
    await send(end)


_FORBIDDEN = (
    "<!doctype html><html lang=fr><meta charset=utf-8><title>Accès refusé</title>"
    "<h1>Accès refusé</h1><p>Les tables brutes sont réservées aux administrateurs du "
    'portail.</p><p><a href="/gestion">Retour à l\'espace gestion</a></p></html>'
)


async def _run_audited(app: Any, scope: Scope, receive: Receive, send: Send) -> None:
    """Run an unsafe admin request in one transaction; commit only a successful answer."""
    messages: list[Message] = []

    async def buffer(message: Message) -> None:
        messages.append(message)

    try:
        async with write_transaction():
            await app(scope, receive, buffer)
            status = next(
                (int(m["status"]) for m in messages if m["type"] == "http.response.start"), 500
            )
            if status >= 400:
                raise _Rollback
    except _Rollback:
        pass
    for message in messages:
        await send(message)


def admin_mount(settings: Settings) -> ASGIRouteHandler:
    admin_app = build_admin(settings)

    @asgi("/admin/", is_mount=True, copy_scope=True, exclude_from_csrf=True)
    async def admin(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            return
        session = scope.get("session")
        member = None
        if isinstance(session, dict):
            member = await staff_from_session(session, settings, time.time())
        if member is None:
            await _send_simple(send, 303, "", {"location": "/gestion/connexion?suite=/admin/"})
            return
        if not member.is_admin:
            await _send_simple(send, 403, _FORBIDDEN, {})
            return
        if not session.get("mfa"):  # type: ignore[union-attr]
            # The raw tables open only to a session that passed the second factor.
            await _send_simple(send, 303, "", {"location": MFA_URL})
            return
        if member.must_change_password:
            # As for every staff page: an initial password is replaced before any work.
            await _send_simple(send, 303, "", {"location": PROFILE_URL})
            return
        assert isinstance(session, dict)
        mark_seen(session, time.time())
        if scope.get("path", "") in ("", "/") and not scope.get("raw_path", b"").endswith(b"/"):
            await _send_simple(send, 308, "", {"location": "/admin/"})
            return
        scope[SCOPE_KEY] = member  # type: ignore[literal-required]
        if scope.get("method", "GET") in UNSAFE_METHODS:
            await _run_audited(admin_app, scope, receive, send)
        else:
            await admin_app(scope, receive, send)

    return admin
