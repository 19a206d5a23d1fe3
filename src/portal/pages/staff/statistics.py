"""Statistiques: the CAF's and the council's figures over a period of months, with charts
(server-side SVG) and CSV/XLSX exports of each table."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from portal.domain.exports import tabular
from portal.domain.exports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from portal.domain.exports.xlsx import xlsx_in_thread
from portal.domain.french_dates import month_label
from portal.domain.staff.roles import ANY_STAFF
from portal.domain.statistics import rules, service
from portal.web.staff import allow

from .common import Staff, StaffPage, render

MAX_MONTHS = 24


def _month(value: str | None) -> date | None:
    try:
        year, month = (int(part) for part in str(value or "").split("-", 1))
        return date(year, month, 1)
    except ValueError:
        return None


def period(ctx: StaffPage, du: str | None, au: str | None) -> tuple[date, date, list[str]]:
    """The months asked (default: the school year so far), at most two years."""
    today = ctx.today
    school_year = today.year if today.month >= 9 else today.year - 1
    first = _month(du) or date(school_year, 9, 1)
    last = _month(au) or today.replace(day=1)
    errors = []
    if (du and _month(du) is None) or (au and _month(au) is None):
        errors.append("Indiquez les mois au format AAAA-MM.")
    if last < first:
        first, last = last, first
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        errors.append(f"La période est limitée à {MAX_MONTHS} mois : elle a été raccourcie.")
        first = date(last.year - MAX_MONTHS // 12, last.month, 1) + timedelta(days=32)
        first = first.replace(day=1)
    end = (last + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, end, errors


EXPORTS = {"activites": "statistiques", "occupation": "occupation", "revenus": "revenus"}


def _table(stats: service.Statistics, which: str) -> tabular.Table:
    if which == "occupation":
        return tabular.Table(
            ("Jour", "Activité", "Places prises", "Capacité", "Occupation (%)"),
            [(o.day, o.activity_name, o.accepted, o.capacity, o.percent) for o in stats.occupancy],
        )
    if which == "revenus":
        return service.revenue_table(stats)
    return service.export_table(stats)


@get("/gestion/s/{sid:int}/statistiques", opt=allow(ANY_STAFF))
async def statistics_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    du: FromQuery[str | None] = None, au: FromQuery[str | None] = None,
    format: FromQuery[str] = "", tableau: FromQuery[str] = "activites",
) -> Template | Response[bytes]:  # fmt: skip
    start, end, errors = period(ctx, du, au)
    stats = await service.statistics(ctx.sid, start, end)
    if format in ("csv", "xlsx"):
        which = tableau if tableau in EXPORTS else "activites"
        table = _table(stats, which)
        name = f"{EXPORTS[which]}-{start:%Y-%m}-{end:%Y-%m}"
        if format == "xlsx":
            return Response(
                content=await xlsx_in_thread(table, EXPORTS[which].capitalize()),
                media_type=XLSX_MEDIA_TYPE,
                headers={"content-disposition": f'attachment; filename="{name}.xlsx"'},
            )
        return Response(
            content=tabular.csv_text(table).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )
    query = urlencode({"du": f"{start:%Y-%m}", "au": f"{end:%Y-%m}"})
    last_month = end.replace(day=1)
    return render(
        request, ctx, "pages/staff/statistics.html", title="Statistiques", nav="statistiques",
        stats=stats, charts=service.charts(stats), errors=errors, query=query,
        start_month=f"{start:%Y-%m}", end_month=f"{end:%Y-%m}",
        period_label=f"{month_label(start.year, start.month)} à {month_label(end.year, end.month)}",
        month_label=month_label, hours_text=rules.hours_text,
        last_month_label=month_label(last_month.year, last_month.month),
        last_month_occupancy=[o for o in stats.occupancy if o.day >= last_month],
    )  # fmt: skip


ROUTES = [statistics_page]
