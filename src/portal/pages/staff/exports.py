"""Downloads of the back office: the nights' transmission exports (CSV and XLSX), served
from PORTAL_EXPORT_DIR/<slug>/ to the structure's own staff, never by path."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import File, Template

from portal.domain.exports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from portal.domain.french_dates import long_date
from portal.domain.paging.rules import Paging, page_number
from portal.domain.staff.roles import ANY_STAFF
from portal.domain.transmission import exports
from portal.settings import Settings
from portal.web.staff import Staff, StaffPage, allow

from .common import not_found, render

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_MEDIA_TYPE}
LATEST = 7  # nights shown on the Transmission page itself


def nights_of(request: Request[Any, Any, Any], ctx: StaffPage) -> list[exports.NightExport]:
    settings: Settings = request.app.state.settings
    return exports.night_exports(settings.exports_dir, str(ctx.structure.slug))


def latest_nights(request: Request[Any, Any, Any], ctx: StaffPage) -> dict[str, Any]:
    """What the Transmission page shows of the exports: the last nights and a link to all."""
    nights = nights_of(request, ctx)
    return {"nights": nights[:LATEST], "more_nights": len(nights) > LATEST, "long_date": long_date}


@get("/gestion/s/{sid:int}/transmission/exports", opt=allow(ANY_STAFF))
async def exports_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    page: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    nights = nights_of(request, ctx)
    paging = Paging.of(page_number(page), len(nights))
    return render(
        request, ctx, "pages/staff/exports.html", title="Exports des nuits",
        nav="transmission", nights=nights[paging.offset : paging.offset + paging.size],
        paging=paging, list_url=f"{ctx.url}/transmission/exports", long_date=long_date,
    )  # fmt: skip


@get("/gestion/s/{sid:int}/transmission/exports/{name:str}", opt=allow(ANY_STAFF))
async def download_export(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], name: FromPath[str]
) -> File:
    settings: Settings = request.app.state.settings
    parsed = exports.parse_download(name[:40])
    path = None
    if parsed is not None:
        night, fmt = parsed
        path = exports.export_file(settings.exports_dir, str(ctx.structure.slug), night, fmt)
    if parsed is None or path is None:
        raise not_found("Cet export")
    night, fmt = parsed
    return File(
        path=path,
        filename=exports.download_name(str(ctx.structure.slug), night, fmt),
        media_type=MEDIA_TYPES[fmt],
        content_disposition_type="attachment",
    )


ROUTES = [exports_page, download_export]
