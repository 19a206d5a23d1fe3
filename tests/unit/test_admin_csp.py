"""piccolo-admin gets inline styles on its own routes only; the portal keeps its strict CSP."""

from __future__ import annotations

import asyncio
from typing import Any

from portal.web.security import (
    ADMIN_CONTENT_SECURITY_POLICY,
    CONTENT_SECURITY_POLICY,
    security_headers,
)


def _policy(path: str) -> str:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    scope = {"type": "http", "path": path, "headers": [], "scheme": "http"}
    asyncio.run(security_headers(app)(scope, receive, send))  # type: ignore[arg-type]
    headers = dict(sent[0]["headers"])
    return str(headers[b"content-security-policy"].decode())


def test_admin_routes_get_inline_styles_and_nothing_else() -> None:
    for path in ("/admin", "/admin/", "/admin/assets/index.css", "/admin/api/tables/"):
        assert _policy(path) == ADMIN_CONTENT_SECURITY_POLICY
    assert "style-src 'self' 'unsafe-inline'" in ADMIN_CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in ADMIN_CONTENT_SECURITY_POLICY  # no inline or eval scripts
    assert "frame-ancestors 'none'" in ADMIN_CONTENT_SECURITY_POLICY


def test_portal_pages_keep_the_strict_policy() -> None:
    for path in ("/", "/gestion/s/1", "/administration", "/adminx/", "/static/app.css"):
        assert _policy(path) == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
