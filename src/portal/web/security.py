"""Security headers on every response."""

from __future__ import annotations

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


def _raw(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    )


# Encoded once: the middleware runs on every response, and looking each name up through
# MutableScopeHeaders decoded the whole header list again for every name.
_PORTAL_RAW = _raw(STATIC_HEADERS)
_ADMIN_RAW = _raw({**STATIC_HEADERS, "content-security-policy": ADMIN_CONTENT_SECURITY_POLICY})
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


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
                raw = list(message.get("headers") or ())
                present = {name.lower() for name, _ in raw}
                raw += [h for h in (_ADMIN_RAW if is_admin else _PORTAL_RAW) if h[0] not in present]
                if https:
                    raw = [h for h in raw if h[0].lower() != _HSTS[0]] + [_HSTS]
                if b"cache-control" not in present and not scope["path"].startswith("/static/"):
                    # Personal pages must not linger in shared or back-forward caches; the
                    # public ones that ask for it are kept and revalidated (ETag, 304).
                    handler = scope.get("route_handler")
                    revalidate = handler is not None and handler.opt.get("revalidate")
                    raw.append((b"cache-control", b"no-cache" if revalidate else b"no-store"))
                message["headers"] = raw
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
