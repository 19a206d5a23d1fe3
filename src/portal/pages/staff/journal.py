"""The journal: what staff did, per structure (every role reads it) and for all
structures (administrators, /gestion/journal)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from portal import clock
from portal.domain.file_review import health_access
from portal.domain.journal import rules, service
from portal.domain.numbers import parse_count
from portal.domain.paging.rules import page_number
from portal.domain.staff.roles import ADMINISTRATION, ANY_STAFF
from portal.tables import Family, Structure
from portal.web.render import page
from portal.web.staff import Member, Staff, account_layout, allow

from .common import parse_day, render


def _id(value: str | None) -> int | None:
    text = (value or "").strip()
    return parse_count(text) if text.isascii() and text.isdigit() else None


def _filters(
    personne: str | None,
    famille: str | None,
    type_: str | None,
    du: str | None,
    au: str | None,
    structure: str | None = None,
) -> tuple[service.Filters, dict[str, str]]:
    first, last = parse_day(du), parse_day(au)
    if first and last and last < first:
        first, last = last, first
    filters = service.Filters(
        staff_id=_id(personne),
        family_id=_id(famille),
        kind=type_ if type_ in rules.KINDS else None,
        first=first,
        last=last,
        structure_id=_id(structure),
    )
    shown = {
        "personne": str(filters.staff_id or ""),
        "famille": str(filters.family_id or ""),
        "type": filters.kind or "",
        "du": first.isoformat() if first else "",
        "au": last.isoformat() if last else "",
        "structure": str(filters.structure_id or ""),
    }
    return filters, shown


def _list_url(path: str, shown: dict[str, str]) -> str:
    query = urlencode({k: v for k, v in shown.items() if v})
    return f"{path}?{query}" if query else path


@get("/gestion/s/{sid:int}/journal", opt=allow(ANY_STAFF))
async def structure_journal(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    personne: FromQuery[str | None] = None, famille: FromQuery[str | None] = None,
    type: FromQuery[str | None] = None, du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None, page: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    filters, shown = _filters(personne, famille, type, du, au)
    shown.pop("structure")
    health = await health_access.has_health_access(ctx.actor, ctx.sid)
    journal = await service.structure_journal(
        ctx.sid, ctx.tz, filters, page_number(page), health=health
    )
    # Links to pages this member cannot open (a family's file for a régisseur, its
    # payments for an agent) are left as plain names.
    journal = replace(
        journal,
        entries=[
            e if e.link is None or ctx.can_open(request.app, e.link)
            else replace(e, link=None, link_label="")
            for e in journal.entries
        ],
    )  # fmt: skip
    families = await Family.select(Family.id, Family.name).where(
        Family.structure == ctx.sid
    ).order_by(Family.name)  # fmt: skip
    return render(
        request, ctx, "pages/staff/journal.html", title="Journal", nav="journal",
        journal=journal, shown=shown, kinds=rules.KINDS, families=families,
        structures=None, action_url=f"{ctx.url}/journal",
        list_url=_list_url(f"{ctx.url}/journal", shown),
    )  # fmt: skip


@get("/gestion/journal", opt=allow(ADMINISTRATION))
async def global_journal(
    request: Request[Any, Any, Any], member: Member,
    personne: FromQuery[str | None] = None, structure: FromQuery[str | None] = None,
    type: FromQuery[str | None] = None, du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None, page: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    filters, shown = _filters(personne, None, type, du, au, structure)
    shown.pop("famille")
    tz = clock.zone(clock.DEFAULT_TIMEZONE)
    journal = await service.global_journal(tz, filters, page_number(page))
    return _global_page(
        request,
        await account_layout(request, member),
        journal=journal, shown=shown, kinds=rules.KINDS, families=None,
        structures=await Structure.select(Structure.id, Structure.name).order_by(Structure.name),
        action_url="/gestion/journal",
        list_url=_list_url("/gestion/journal", shown),
    )  # fmt: skip


def _global_page(
    request: Request[Any, Any, Any], layout: dict[str, Any] | None, **context: Any
) -> Template:
    return page(
        request,
        "pages/staff/journal.html",
        layout=layout,
        page_title="Journal de toutes les structures",
        nav_active="journal",
        **context,
    )


ROUTES = [structure_journal, global_journal]
