"""Downloads of the back office: the nights' transmission exports (CSV and XLSX), served
from PORTAL_EXPORT_DIR/<slug>/ to the structure's own staff, never by path."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery
from litestar.response import File, Template

from portal.domain.exports import tabular
from portal.domain.exports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from portal.domain.exports.xlsx import xlsx_in_thread
from portal.domain.french_dates import long_date
from portal.domain.paging.rules import Paging, page_number
from portal.domain.staff import activities as activity_service
from portal.domain.staff import decisions, list_exports
from portal.domain.staff.roles import ANY_STAFF, MONEY_READ, OPERATIONS_READ
from portal.domain.transmission import exports
from portal.settings import Settings
from portal.web.forms import int_or_none
from portal.web.staff import Staff, StaffPage, allow

from .common import not_found, parse_day, render
from .daily import attendance_context

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


# --- the staff lists, as their filters show them -------------------------------------------


async def table_response(table: tabular.Table, name: str, fmt: str, title: str) -> Response[bytes]:
    """The table as a download; big writes run in a worker thread (XLSX)."""
    if fmt == "xlsx":
        return Response(
            content=await xlsx_in_thread(table, title),
            media_type=XLSX_MEDIA_TYPE,
            headers={"content-disposition": f'attachment; filename="{name}.xlsx"'},
        )
    if fmt != "csv":
        raise ClientException("Choisissez le format CSV ou XLSX.")
    return Response(
        content=tabular.csv_text(table).encode("utf-8"),
        media_type=MEDIA_TYPES["csv"],
        headers={"content-disposition": f'attachment; filename="{name}.csv"'},
    )


@get("/gestion/s/{sid:int}/familles/export", opt=allow(ANY_STAFF))
async def export_families(
    ctx: Staff, sid: FromPath[int], q: FromQuery[str | None] = None,
    format: FromQuery[str] = "csv",
) -> Response[bytes]:  # fmt: skip
    table = await list_exports.families_table(ctx.sid, (q or "").strip()[:60])
    return await table_response(table, "familles", format, "Familles")


@get("/gestion/s/{sid:int}/presences/export", opt=allow(OPERATIONS_READ))
async def export_attendance(
    ctx: Staff, sid: FromPath[int], activite: FromQuery[str | None] = None,
    jour: FromQuery[str | None] = None, format: FromQuery[str] = "csv",
) -> Response[bytes]:  # fmt: skip
    context = await attendance_context(ctx, activite, jour)
    activity, listing, day = context["activity"], context["listing"], context["day"]
    if activity is None or listing is None:
        raise not_found("Cette activité")
    table = list_exports.attendance_table(activity.name, listing)
    return await table_response(table, f"presences-{day.isoformat()}", format, "Présences")


@get("/gestion/s/{sid:int}/decisions/export", opt=allow(OPERATIONS_READ))
async def export_decisions(
    ctx: Staff, sid: FromPath[int], activite: FromQuery[str | None] = None,
    jour: FromQuery[str | None] = None, format: FromQuery[str] = "csv",
) -> Response[bytes]:  # fmt: skip
    activity_id = int_or_none(activite)
    day = parse_day(jour)
    if activite not in (None, "") and activity_id not in {
        a.id for a in await activity_service.activities(ctx.sid)
    }:
        raise not_found("Cette activité")
    groups = await decisions.waiting_requests(
        ctx.sid, activity_id=activity_id, day=day, since=None if day else ctx.today,
        limit=list_exports.MAX_ROWS,
    )  # fmt: skip
    return await table_response(
        list_exports.decisions_table(groups), "decisions", format, "Décisions"
    )


@get("/gestion/s/{sid:int}/reglements/export", opt=allow(MONEY_READ))
async def export_payments(
    ctx: Staff, sid: FromPath[int], du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None, format: FromQuery[str] = "csv",
) -> Response[bytes]:  # fmt: skip
    last = parse_day(au) or ctx.today
    first = parse_day(du) or last.replace(day=1)
    if last < first:
        first, last = last, first
    table = await list_exports.payments_table(ctx.sid, first, last)
    name = f"reglements-{first.isoformat()}-{last.isoformat()}"
    return await table_response(table, name, format, "Règlements")


@get("/gestion/s/{sid:int}/reservations/export", opt=allow(OPERATIONS_READ))
async def export_bookings(
    ctx: Staff, sid: FromPath[int], du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None, activite: FromQuery[str | None] = None,
    format: FromQuery[str] = "csv",
) -> Response[bytes]:  # fmt: skip
    first = parse_day(du) or ctx.today
    last = parse_day(au) or first
    if last < first:
        first, last = last, first
    activity_id = int_or_none(activite)
    if activite not in (None, "") and activity_id not in {
        a.id for a in await activity_service.activities(ctx.sid)
    }:
        raise not_found("Cette activité")
    table = await list_exports.bookings_table(ctx.sid, first, last, activity_id)
    name = f"reservations-{first.isoformat()}-{last.isoformat()}"
    return await table_response(table, name, format, "Réservations")


ROUTES += [export_families, export_attendance, export_decisions, export_payments, export_bookings]
