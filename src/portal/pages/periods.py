"""A booking period's rules, published to parents before it opens (linked from the
calendar)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from portal import clock
from portal.domain.booking.scope import load_scope
from portal.domain.periods import service as periods
from portal.web.context import Parent
from portal.web.render import page


@get("/reservations/periodes/{pid:int}")
async def period_rules_page(
    request: Request[Any, Any, Any], parent: Parent, pid: FromPath[int]
) -> Template:
    try:
        detail = await periods.period_for_family(parent.family_id, pid)
    except periods.NotFound:
        raise NotFoundException("Cette période de réservation n'existe pas.") from None
    scope = await load_scope(parent.family_id)
    now = clock.utcnow()
    return page(
        request, "pages/booking/period.html", parent, page_title=detail.period.name,
        nav_active="reservations", item=detail,
        published_rules=detail.published_rules(scope.tz, now), now=now,
    )  # fmt: skip


ROUTES = [period_rules_page]
