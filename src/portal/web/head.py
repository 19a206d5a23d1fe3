"""HEAD answered like GET without a body, for every GET route (monitors, link checkers).

Litestar routes HEAD only to handlers that declare it; this wrapper sits in front of the
router, so that every page, ``/healthz``, ``/sw.js``, the manifest and the static files
answer HEAD with the status and headers (Content-Length included) a GET would get.
"""

from __future__ import annotations

from typing import cast

from litestar.types import ASGIApp, Message, Receive, Scope, Send

_BODY_MESSAGES = {"http.response.body", "http.response.zerocopysend", "http.response.pathsend"}


def head_as_get(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        # A copy: the server keeps its own scope, where the method is still HEAD.
        as_get = cast(Scope, {**scope, "method": "GET"})
        finished = False

        async def send_without_body(message: Message) -> None:
            nonlocal finished
            if message["type"] in _BODY_MESSAGES:
                if finished or message.get("more_body", False):
                    return
                finished = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await app(as_get, receive, send_without_body)

    return middleware
