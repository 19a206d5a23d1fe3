"""Page helpers every back-office page shares (rendering, form values, dates).

The staff session, the structure of the URL and the layout are `portal.web.staff`; they
are re-exported here for the page modules.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.web.context import RedirectTo
from portal.web.render import page
from portal.web.staff import (
    LOGIN_URL,
    NAV,
    Member,
    Staff,
    StaffPage,
    base_url,
    layout_for,
    load_staff,
    staff_context,
    staff_from_session,
    staff_page,
)

__all__ = [
    "LOGIN_URL",
    "NAV",
    "Member",
    "Staff",
    "StaffPage",
    "base_url",
    "layout_for",
    "load_staff",
    "not_found",
    "parse_day",
    "redirect_to_structure",
    "render",
    "shift_month",
    "staff_context",
    "staff_from_session",
    "staff_page",
    "values",
]


def not_found(what: str = "Cette page") -> NotFoundException:
    return NotFoundException(f"{what} n'existe pas ou n'appartient pas à cette structure.")


def render(
    request: Request[Any, Any, Any],
    ctx: StaffPage,
    template: str,
    *,
    title: str,
    nav: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    return page(
        request,
        template,
        status_code=status_code,
        layout=ctx.layout,
        page_title=title,
        nav_active=nav,
        base=ctx.url,
        ctx=ctx,
        **context,
    )


def values(data: dict[str, Any], name: str) -> list[str]:
    """Every value of a field that may repeat (checkboxes)."""
    raw = data.get(name, [])
    if isinstance(raw, list):
        return [str(v) for v in raw]
    return [str(raw)] if raw not in (None, "") else []


def shift_month(year: int, month: int, delta: int) -> str:
    index = year * 12 + month - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def redirect_to_structure(sid: int) -> RedirectTo:
    return RedirectTo(base_url(sid))
