"""Offline glance: the family's next bookings and balances as JSON, dated, that the home
page keeps on the device (static/family.js, in localStorage) for the installed app's
offline page. It is personal: never cached by HTTP, wiped at logout (Clear-Site-Data
"storage", and by the script itself)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from portal import clock
from portal.domain.home import service as home
from portal.domain.money_format import format_euros
from portal.web.context import Parent

GLANCE_URL = "/apercu-hors-ligne"


@get(GLANCE_URL)
async def glance(request: Request[Any, Any, Any], parent: Parent) -> Response[dict[str, Any]]:
    tz = clock.zone(parent.family.structure_timezone)
    now = clock.utcnow()
    board = await home.dashboard(
        parent.family_id, parent.family.structure_id, now.astimezone(tz).date(), now
    )
    return Response(
        {
            "as_of": f"au {now.astimezone(tz):%d/%m/%Y à %H:%M}",
            "family": parent.family.family_name,
            "structure": parent.family.structure_name,
            "wallets": [
                {"name": w.name, "balance": format_euros(w.balance_cents), "debt": w.in_debt}
                for w in board.wallets
            ],
            "children": [
                {
                    "first_name": child.first_name,
                    "bookings": [
                        {"day": b.day_label, "activity": b.activity, "status": b.label}
                        for b in child.bookings
                    ],
                }
                for child in board.children
            ],
        },
        headers={"cache-control": "no-store"},
    )


ROUTES = [glance]
