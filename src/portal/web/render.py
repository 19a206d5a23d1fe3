"""Building template responses with the layout and one-shot messages."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Redirect, Template

from portal.web.context import ParentContext


def flash(request: Request[Any, Any, Any], message: str, category: str = "success") -> None:
    request.session.setdefault("flash", []).append({"message": message, "category": category})


def page(
    request: Request[Any, Any, Any],
    template: str,
    parent: ParentContext | None = None,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    messages = request.session.pop("flash", []) if request.scope.get("session") else []
    return Template(
        template_name=template,
        status_code=status_code,
        context={
            "layout": parent.layout if parent else None,
            "flash_messages": messages,
            **context,
        },
    )


def see_other(location: str) -> Redirect:
    return Redirect(path=location, status_code=303)


def logged_out(request: Request[Any, Any, Any], location: str) -> Redirect:
    """End the session and leave nothing of the account on the device.

    Clear-Site-Data empties the HTTP cache, Cache Storage and the service worker (registered
    again by the next page). Cookies stay: the CSRF one is not personal.
    """
    request.clear_session()
    response = see_other(location)
    response.headers["clear-site-data"] = '"cache", "storage"'
    return response
