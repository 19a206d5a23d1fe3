"""One URL per resource: a handler answers htmx with the fragment and browsers with the page.

htmx sends ``HX-Request`` on the requests it makes for ``hx-get``/``hx-post``; a boosted
navigation (``HX-Boosted``) or a history reload (``HX-History-Restore-Request``) wants the
whole page, like a plain browser request.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template


def wants_fragment(request: Request[Any, Any, Any]) -> bool:
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def fragment(template: str, context: dict[str, Any], push_url: str | None = None) -> Template:
    """The fragment's template, its other regions swapped out of band (``oob``).

    ``Vary: HX-Request`` because the same URL answers a page or a fragment: a cache must
    not give one for the other. ``push_url``: the address bar shows the page's URL.
    """
    headers = {"Vary": "HX-Request"}
    if push_url:
        headers["HX-Push-Url"] = push_url
    return Template(template_name=template, context={**context, "oob": True}, headers=headers)


def varies(response: Template) -> Template:
    """The whole page of a URL that also answers fragments: caches keep the two apart."""
    response.headers["Vary"] = "HX-Request"
    return response
