"""Booking periods in the back office: create and edit a period (activities, days,
opening, mode, window, ranked criteria), its published rules, and the allocation's
transparency page and exports."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal import clock
from portal.domain.booking.opening import PeriodMode
from portal.domain.exports.tabular import csv_text
from portal.domain.exports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from portal.domain.exports.xlsx import xlsx_in_thread
from portal.domain.form_fields import local_input, parse_date, parse_local_datetime
from portal.domain.periods import allocate, report, rules
from portal.domain.periods import service as periods
from portal.domain.staff.roles import OPERATIONS, OPERATIONS_READ
from portal.settings import Settings
from portal.web.forms import MultiForm, int_or_none
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, render, values

CRITERIA_SLOTS = len(rules.Criterion)  # every criterion can be ranked


def _form_of(detail: periods.PeriodDetail | None, ctx: StaffPage) -> dict[str, Any]:
    if detail is None:
        return {"mode": PeriodMode.FIRST_COME.value, "activites": [], "criteres": []}
    p = detail.period
    return {
        "nom": p.name,
        "activites": [str(a) for a in sorted(p.activity_ids)],
        "premier_jour": p.first_day.isoformat(),
        "dernier_jour": p.last_day.isoformat(),
        "ouverture": local_input(p.opens_at, ctx.tz),
        "mode": p.mode.value,
        "fin_fenetre": local_input(p.window_ends_at, ctx.tz),
        "criteres": [c.value for c in detail.criteria],
        "codes_postaux": ", ".join(detail.resident_postcodes),
    }


async def _context(ctx: StaffPage, detail: periods.PeriodDetail | None) -> dict[str, Any]:
    now = clock.utcnow()
    return {
        "items": await periods.structure_periods(ctx.sid),
        "item": detail,
        "form": _form_of(detail, ctx),
        "activities": await periods.structure_activities(ctx.sid),
        "modes": list(PeriodMode),
        "criteria": list(rules.Criterion),
        "slots": range(1, CRITERIA_SLOTS + 1),
        "errors": [],
        "now": now,
        "local": lambda instant: instant.astimezone(ctx.tz).strftime("%d/%m/%Y à %H:%M"),
        "published_rules": detail.published_rules(ctx.tz, now) if detail else [],
    }


def _page(
    request: Request[Any, Any, Any], ctx: StaffPage, context: dict[str, Any], status: int = 200
) -> Template:
    return render(
        request, ctx, "pages/staff/periods.html", title="Périodes de réservation",
        nav="periodes", status_code=status, **context,
    )  # fmt: skip


def parse_settings(
    data: dict[str, Any], ctx: StaffPage
) -> tuple[rules.PeriodSettings | None, list[str]]:
    """The form's values as settings, or the French reasons they cannot be read."""
    errors: list[str] = []

    def text(name: str) -> str:
        value = data.get(name, "")
        return value if isinstance(value, str) else ""

    activity_ids = tuple(a for a in (int_or_none(v) for v in values(data, "activites")) if a)
    try:
        first_day = parse_date(text("premier_jour"), "Le premier jour")
        last_day = parse_date(text("dernier_jour"), "Le dernier jour")
        opens_at = parse_local_datetime(text("ouverture"), ctx.tz, "L'ouverture")
        window_ends_at = parse_local_datetime(text("fin_fenetre"), ctx.tz, "La fin de la fenêtre")
        postcodes = rules.parse_postcodes(text("codes_postaux")[:200])
    except OverflowError:  # a year at the edge of the calendar, shifted by the time zone
        return None, ["Une des dates est hors du calendrier utilisable."]
    except ValueError as exc:
        return None, [str(exc)]
    if opens_at is None:
        return None, ["Indiquez la date et l'heure d'ouverture des réservations."]
    mode_text = text("mode")
    mode = PeriodMode(mode_text) if mode_text in {m.value for m in PeriodMode} else None
    if mode is None:
        return None, ["Choisissez un mode d'attribution."]
    ranked = ",".join(text(f"critere_{i}") for i in range(1, CRITERIA_SLOTS + 1))
    settings = rules.PeriodSettings(
        name=text("nom")[:200],
        activity_ids=activity_ids,
        first_day=first_day,
        last_day=last_day,
        opens_at=opens_at,
        mode=mode,
        window_ends_at=window_ends_at,
        criteria=rules.parse_criteria(ranked) if mode is PeriodMode.PRIORITY else (),
        resident_postcodes=postcodes,
    )
    return settings, errors


async def _detail_or_404(ctx: StaffPage, pid: int) -> periods.PeriodDetail:
    try:
        return await periods.period_for_structure(ctx.sid, pid)
    except periods.NotFound:
        raise not_found("Cette période") from None


@get("/gestion/s/{sid:int}/periodes", opt=allow(OPERATIONS_READ))
async def periods_page(request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]) -> Template:
    return _page(request, ctx, await _context(ctx, None))


@get("/gestion/s/{sid:int}/periodes/{pid:int}", opt=allow(OPERATIONS_READ))
async def period_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], pid: FromPath[int]
) -> Template:
    return _page(request, ctx, await _context(ctx, await _detail_or_404(ctx, pid)))


async def _save(
    request: Request[Any, Any, Any], ctx: StaffPage, data: dict[str, Any], pid: int | None
) -> Template | Redirect:
    detail = await _detail_or_404(ctx, pid) if pid is not None else None
    settings, errors = parse_settings(data, ctx)
    if settings is not None:
        try:
            pid = await periods.save_period(ctx.actor, ctx.sid, settings, pid)
        except rules.PeriodError as exc:
            errors = [str(exc)]
        except periods.NotFound:
            raise not_found("Cette période") from None
    if errors or pid is None:
        context = await _context(ctx, detail)
        context["errors"] = errors
        context["form"] = {
            **{k: v for k, v in data.items() if isinstance(v, str)},
            "activites": values(data, "activites"),
            "criteres": [str(data.get(f"critere_{i}", "")) for i in range(1, CRITERIA_SLOTS + 1)],
        }
        return _page(request, ctx, context, 400)
    flash(request, "Période enregistrée : ses règles sont publiées aux familles.")
    return see_other(f"{ctx.url}/periodes/{pid}")


@post("/gestion/s/{sid:int}/periodes", opt=allow(OPERATIONS))
async def create_period(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    return await _save(request, ctx, data, None)


@post("/gestion/s/{sid:int}/periodes/{pid:int}", opt=allow(OPERATIONS))
async def update_period(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], pid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    return await _save(request, ctx, data, pid)


# --- transparency ---------------------------------------------------------------------


async def _allocation_lines(
    ctx: StaffPage, detail: periods.PeriodDetail, pid: int
) -> tuple[report.ShownCriteria, list[report.ReportLine]]:
    """The report's lines, ordered by every criterion, with the columns this member reads."""
    criteria = detail.criteria if detail.period.mode is PeriodMode.PRIORITY else ()
    shown = await report.shown_criteria(ctx.actor, ctx.sid, pid, criteria)
    lines = await report.report_lines(
        pid, criteria, shown.criteria, ordered=not shown.health_hidden
    )
    return shown, lines


@get("/gestion/s/{sid:int}/periodes/{pid:int}/attribution", opt=allow(OPERATIONS_READ))
async def allocation_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], pid: FromPath[int]
) -> Template:
    detail = await _detail_or_404(ctx, pid)
    shown, lines = await _allocation_lines(ctx, detail, pid)
    now = clock.utcnow()
    return render(
        request, ctx, "pages/staff/period_allocation.html", title="Attribution des places",
        nav="periodes", item=detail, criteria=shown.criteria,
        health_hidden=shown.health_hidden, lines=lines, now=now,
        published_rules=detail.published_rules(ctx.tz, now),
    )  # fmt: skip


@get(
    [
        "/gestion/s/{sid:int}/periodes/{pid:int}/attribution.csv",
        "/gestion/s/{sid:int}/periodes/{pid:int}/attribution.xlsx",
    ],
    opt=allow(OPERATIONS_READ),
)
async def allocation_export(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], pid: FromPath[int]
) -> Response[bytes]:
    shown, lines = await _allocation_lines(ctx, await _detail_or_404(ctx, pid), pid)
    table = report.report_table(lines, shown.criteria, ordered=not shown.health_hidden)
    name = f"attribution-periode-{pid}"
    if request.url.path.endswith(".csv"):
        return Response(
            content=csv_text(table).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        content=await xlsx_in_thread(table, "Attribution"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"content-disposition": f'attachment; filename="{name}.xlsx"'},
    )


@post("/gestion/s/{sid:int}/periodes/{pid:int}/attribuer", opt=allow(OPERATIONS))
async def allocate_now(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], pid: FromPath[int]
) -> Redirect:
    """Run the allocation now (the sweep does it at the window's end; this is for a
    structure that does not want to wait the next minute)."""
    await _detail_or_404(ctx, pid)
    settings: Settings = request.app.state.settings
    try:
        outcome = await allocate.allocate_period(pid, base_url=settings.base_url)
    except allocate.NotDue:
        flash(request, "La période de demandes n'est pas terminée : rien n'est attribué.", "error")
    else:
        flash(
            request,
            f"Attribution faite : {outcome.accepted} acceptée(s), {outcome.waitlisted} en liste "
            f"d'attente, {outcome.refused} refusée(s).",
        )
    return see_other(f"{ctx.url}/periodes/{pid}/attribution")


ROUTES = [
    periods_page,
    period_page,
    create_period,
    update_period,
    allocation_page,
    allocation_export,
    allocate_now,
]
