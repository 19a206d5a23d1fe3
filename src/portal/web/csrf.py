"""CSRF tokens bound to the server-side session (synchronizer token pattern).

Litestar's own middleware is a double-submit cookie: any valid (cookie, token) pair is
accepted, so a pair obtained in another browser and planted in the victim's (a cookie
injected from a sibling domain, a shared computer) passes. Here a token is an HMAC of a
secret that lives in the server-side session, under the application's secret key:

- a session that holds data (a logged-in parent or agent, a flash message) gets its own
  random secret, stored in the session; tokens are valid for that session only and die
  with it (logout, expiry, and login, which replaces the session);
- an anonymous visitor without a session (the login and forgotten-password forms) is bound
  to the ``portal_csrf`` cookie instead (signed double-submit cookie), so that visitors and
  crawlers do not each create a server-side session.

Each rendering gets a fresh random nonce, so that the token's bytes change with every page
(no BREACH oracle under compression). htmx sends the token as the ``x-csrftoken`` header
(``hx-headers`` in base.html), forms as the ``_csrf_token`` field; templates read it with
Litestar's ``csrf_token()`` and ``csrf_input``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import MutableMapping
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.datastructures.cookie import Cookie
from litestar.datastructures.upload_file import UploadFile
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

SESSION_KEY = "csrf_secret"
FORM_FIELD = "_csrf_token"
_NONCE_HEX = 32
_TOKEN = re.compile(rf"[0-9a-f]{{{_NONCE_HEX + 64}}}")


def _mac(key: bytes, binding: str, nonce: str) -> str:
    return hmac.new(key, f"csrf:{binding}:{nonce}".encode(), hashlib.sha256).hexdigest()


def make_token(key: bytes, binding: str) -> str:
    """A fresh token for this binding: a random nonce and its HMAC."""
    nonce = secrets.token_hex(_NONCE_HEX // 2)
    return nonce + _mac(key, binding, nonce)


def token_is_valid(key: bytes, binding: str, token: object) -> bool:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return False
    nonce, mac = token[:_NONCE_HEX], token[_NONCE_HEX:]
    return hmac.compare_digest(mac, _mac(key, binding, nonce))


def _session(scope: Scope) -> MutableMapping[str, Any] | None:
    session = scope.get("session")
    return session if isinstance(session, MutableMapping) else None


class SessionCSRFMiddleware(ASGIMiddleware):
    """Refuse unsafe requests whose token was not issued to this session (or cookie)."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = "exclude_from_csrf"

    def __init__(self, config: CSRFConfig) -> None:
        self.config = config
        self.key = config.secret.encode()
        excluded = config.exclude or ()
        self.exclude_path_pattern = (excluded,) if isinstance(excluded, str) else tuple(excluded)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie = request.cookies.get(self.config.cookie_name) or ""
        session = _session(scope)
        if session and SESSION_KEY not in session:
            # A session with data but no secret yet: a new login, or one from before.
            session[SESSION_KEY] = secrets.token_hex(32)

        if request.method not in self.config.safe_methods:
            binding = self._binding(session, cookie)
            token: Any = request.headers.get(self.config.header_name)
            if token is None and request.content_type[0] in {
                RequestEncodingType.URL_ENCODED,
                RequestEncodingType.MULTI_PART,
            }:
                token = (await request.form()).get(FORM_FIELD)
            if binding is None or isinstance(token, UploadFile):
                token = None
            if binding is None or not token_is_valid(self.key, binding, token):
                raise PermissionDeniedException("CSRF token verification failed")

        new_cookie = ""
        if not cookie and not request.route_handler.opt.get("skip_session"):
            new_cookie = cookie = secrets.token_hex(32)
        binding = self._binding(session, cookie)
        if binding is not None:
            ScopeState.from_scope(scope).csrf_token = make_token(self.key, binding)

        if not new_cookie:
            await next_app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers.add("set-cookie", self._cookie(new_cookie).to_header(header=""))
            await send(message)

        await next_app(scope, receive, send_with_cookie)

    @staticmethod
    def _binding(session: MutableMapping[str, Any] | None, cookie: str) -> str | None:
        if session and isinstance(secret := session.get(SESSION_KEY), str):
            return "session:" + secret
        return "cookie:" + cookie if cookie else None

    def _cookie(self, value: str) -> Cookie:
        return Cookie(
            key=self.config.cookie_name,
            value=value,
            path=self.config.cookie_path,
            secure=self.config.cookie_secure,
            httponly=self.config.cookie_httponly,
            samesite=self.config.cookie_samesite,
            domain=self.config.cookie_domain,
        )
