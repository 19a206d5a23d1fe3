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
    """The fragment's template, its swaps out of band (``oob``); ``push_url`` for the bar."""
    headers = {"Vary": "HX-Request"}
    if push_url:
        headers["HX-Push-Url"] = push_url
    return Template(template_name=template, context={**context, "oob": True}, headers=headers)
