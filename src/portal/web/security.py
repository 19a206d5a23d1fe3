"""Security headers on every response."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "manifest-src 'self'",
        "worker-src 'self'",
    ]
)

# piccolo-admin (/admin/, a third-party Vue app) sets style attributes from its templates
# (icons, column widths): under "style-src 'self'" its logo fills the page and its tables
# run to thousands of pixels. It gets inline styles, on its own routes only; its scripts
# stay 'self' (its bundle needs no eval) and everything else matches the portal's policy.
ADMIN_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

STATIC_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
}


def _is_https(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-proto":
            return value.decode("latin-1").split(",")[0].strip() == "https"
    return False


def security_headers(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        https = _is_https(scope)
        # The admin is a third-party single-page app with its own policy (above).
        is_admin = scope["path"] == "/admin" or scope["path"].startswith("/admin/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in STATIC_HEADERS.items():
                    if is_admin and name == "content-security-policy":
                        value = ADMIN_CONTENT_SECURITY_POLICY
                    if name not in headers:
                        headers[name] = value
                if https:
                    headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
                if "cache-control" not in headers and not scope["path"].startswith("/static/"):
                    # Personal pages must not linger in shared or back-forward caches; the
                    # public ones that ask for it are kept and revalidated (ETag, 304).
                    handler = scope.get("route_handler")
                    revalidate = handler is not None and handler.opt.get("revalidate")
                    headers["cache-control"] = "no-cache" if revalidate else "no-store"
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
