"""HTTP caching: long-lived versioned static files and conditional GETs (ETag, 304).

- A static file asked for with its version (``?v=<hash>`` or a name like
  ``htmx-2.0.11.min.js``) never changes under that URL: ``public, max-age=31536000,
  immutable``, so a returning parent downloads nothing.
- Any other successful GET that may be stored (not ``no-store``: static files without a
  version, public pages, the manifest and the service worker) carries an ETag; a request
  whose ``If-None-Match`` matches it gets ``304 Not Modified`` without a body.
- Personal pages stay ``no-store`` (set by the security headers): they never reach a disk
  cache, so there is nothing to revalidate.

The ETag is a hash of the bytes sent, after compression: each encoding has its own.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, cast

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
VERSIONED_NAME = re.compile(r"-\d+(\.\d+)+(\.min)?\.[a-z]+$")
VERSION_QUERY = re.compile(rb"(^|&)v=[\w.-]+")
# Headers a 304 keeps (RFC 9110 15.4.5), plus the security ones added around us.
DROPPED_ON_304 = ("content-length", "content-encoding", "content-type", "content-disposition")


def is_versioned_static(path: str, query: bytes) -> bool:
    return path.startswith("/static/") and bool(
        VERSION_QUERY.search(query) or VERSIONED_NAME.search(path)
    )


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2), as If-None-Match asks."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def body_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def http_caching(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        http = cast(dict[str, Any], scope)
        if http["type"] != "http" or http["method"] not in ("GET", "HEAD"):
            await app(scope, receive, send)
            return
        method = str(http["method"])
        if_none_match = ""
        for name, value in scope.get("headers", []):
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        immutable = is_versioned_static(scope["path"], scope.get("query_string", b""))
        start: Any = None
        chunks: list[bytes] = []
        mode = "pass"  # "pass": forward as is; "buffer": hash the body; "drop": 304 sent

        async def not_modified(message: Any, etag: str) -> None:
            headers = MutableScopeHeaders.from_message(message)
            for name in DROPPED_ON_304:
                if name in headers:
                    del headers[name]
            headers["etag"] = etag
            message["status"] = 304
            await send(message)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def send_wrapper(event: Message) -> None:
            nonlocal start, mode
            message = cast(dict[str, Any], event)
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(event)
                if immutable and message["status"] == 200:
                    headers["cache-control"] = IMMUTABLE
                cache_control = headers.get("cache-control", "")
                head_without_tag = method == "HEAD" and "etag" not in headers
                if message["status"] != 200 or "no-store" in cache_control or head_without_tag:
                    await send(event)
                    return
                start, mode = message, "buffer"
                return
            if message["type"] != "http.response.body" or mode == "pass":
                await send(event)
                return
            if mode == "drop":
                return
            assert start is not None
            headers = MutableScopeHeaders.from_message(start)
            existing = headers.get("etag")
            if existing and not chunks:
                # A file streamed in chunks already has one (path, time, size): decide now.
                if headers.get("content-encoding") and not existing.startswith("W/"):
                    existing = "W/" + existing  # same file, other bytes once compressed
                    headers["etag"] = existing
                if etag_matches(if_none_match, existing):
                    mode = "drop"
                    await not_modified(start, existing)
                    return
                mode = "pass"
                await send(start)
                await send(event)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            etag = body_etag(body)
            if etag_matches(if_none_match, etag):
                mode = "drop"
                await not_modified(start, etag)
                return
            headers["etag"] = etag
            mode = "pass"
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await app(scope, receive, send_wrapper)

    return middleware
