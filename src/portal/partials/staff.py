"""htmx fragments of the back office: one day of decisions, one attendance row.

The page handlers in portal.pages.staff answer the same forms without JavaScript (303 to
the page); these return only the region that changed, from the same context functions.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.exceptions import ClientException
from litestar.params import FromPath
from litestar.response import Template

from portal.domain.french_dates import short_date
from portal.domain.staff import decisions
from portal.domain.staff.rules import FormError, Presence
from portal.pages.staff.common import Member, staff_page
from portal.pages.staff.daily import apply_decision, apply_mark
from portal.web.forms import MultiForm


def _fragment(template: str, **context: Any) -> Template:
    return Template(template_name=template, context=context)


@post("/partials/gestion/s/{sid:int}/decisions/{rid:int}")
async def decide(
    request: Request[Any, Any, Any], member: Member, sid: FromPath[int], rid: FromPath[int],
    data: MultiForm,
) -> Template:  # fmt: skip
    ctx = await staff_page(request, member, sid)
    day_id = int(str(data.get("journee", "0"))) if str(data.get("journee", "")).isdigit() else 0
    message, error = None, None
    try:
        decided = await apply_decision(ctx, rid, data)
        day_id, message = decided.day_id, decided.message
    except decisions.DecisionError as exc:
        error = str(exc)
    groups = [g for g in await decisions.waiting_requests(ctx.sid) if g.day_id == day_id]
    return _fragment(
        "partials/staff/decision_day.html",
        group=groups[0] if groups else None,
        day_id=day_id,
        message=message,
        error=error,
        base=ctx.url,
        back=str(data.get("retour", f"{ctx.url}/decisions")),
        short_date=short_date,
    )


@post("/partials/gestion/s/{sid:int}/presences/{rid:int}")
async def mark(
    request: Request[Any, Any, Any], member: Member, sid: FromPath[int], rid: FromPath[int],
    data: MultiForm,
) -> Template:  # fmt: skip
    ctx = await staff_page(request, member, sid)
    try:
        line = await apply_mark(ctx, rid, data)
    except FormError as exc:
        raise ClientException(" ".join(exc.errors)) from None
    return _fragment(
        "partials/staff/attendance_row.html",
        line=line,
        base=ctx.url,
        activity_id=data.get("activite", ""),
        day=data.get("jour", ""),
        presences=list(Presence),
        updated=True,
    )


ROUTES = [decide, mark]
