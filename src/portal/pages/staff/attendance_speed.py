"""Présences at speed: « Tous présents », the times grid of time-entry activities, and a
child who came without a booking. The attendance sheet itself is pages/staff/daily.py;
`speed_context` adds what these tools show on it."""

from __future__ import annotations

from datetime import date, time
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain.french_dates import long_date
from portal.domain.staff import activities as activity_service
from portal.domain.staff import attendance_speed as service
from portal.domain.staff.roles import OPERATIONS
from portal.domain.staff.service import NotFound
from portal.web.forms import MultiForm, int_or_none
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, parse_day, render


async def speed_context(ctx: StaffPage, activity_id: int | None, day: date) -> dict[str, Any]:
    """The sheet's state and the children who may be added (for the attendance page)."""
    if activity_id is None:
        return {"sheet_state": None, "candidates": []}
    try:
        return {
            "sheet_state": await service.sheet_state(ctx.sid, activity_id, day),
            "candidates": await service.unexpected_candidates(ctx.sid, activity_id, day),
        }
    except NotFound:  # no day of this activity on that date
        return {"sheet_state": None, "candidates": []}


async def _target(ctx: StaffPage, activite: Any, jour: Any) -> tuple[Any, date]:
    """The activity (of this structure) and the day a sheet action is about."""
    activity_id = int_or_none(activite)
    day = parse_day(str(jour or ""))
    activities = await activity_service.activities(ctx.sid)
    activity = next((a for a in activities if a.id == activity_id), None)
    if activity is None or day is None:
        raise not_found("Cette activité")
    return activity, day


def _sheet_url(ctx: StaffPage, activity_id: int, day: date, page: str = "presences") -> str:
    return f"{ctx.url}/{page}?" + urlencode({"activite": activity_id, "jour": day.isoformat()})


def _time(value: Any) -> time | None:
    try:
        return time.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@post("/gestion/s/{sid:int}/presences/tous-presents", opt=allow(OPERATIONS))
async def all_present(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Redirect:
    activity, day = await _target(ctx, data.get("activite"), data.get("jour"))
    try:
        changed = await service.all_present(ctx.actor, ctx.sid, activity.id, day)
    except NotFound:
        raise not_found("Cette journée") from None
    flash(
        request,
        "Feuille relevée : tous les enfants attendus sont présents"
        + (
            f" ({changed} absence{'s' if changed > 1 else ''} effacée{'s' if changed > 1 else ''})"
            if changed
            else ""
        )
        + ". Marquez maintenant les absents.",
    )
    return see_other(_sheet_url(ctx, activity.id, day))


@post("/gestion/s/{sid:int}/presences/imprevu", opt=allow(OPERATIONS))
async def add_unexpected(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Redirect:
    activity, day = await _target(ctx, data.get("activite"), data.get("jour"))
    person_id = int_or_none(data.get("personne"))
    if person_id is None:
        flash(request, "Choisissez l'enfant venu sans réservation.", "error")
        return see_other(_sheet_url(ctx, activity.id, day))
    try:
        await service.add_unexpected(
            ctx.actor, ctx.sid, activity.id, day, person_id,
            _time(data.get("arrivee")), _time(data.get("depart")),
        )  # fmt: skip
    except NotFound:
        raise not_found("Cet enfant ou cette journée") from None
    except service.AttendanceError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, "Présence ajoutée : elle sera facturée comme une journée réservée.")
    return see_other(_sheet_url(ctx, activity.id, day))


async def times_context(ctx: StaffPage, activity: Any, day: date) -> dict[str, Any]:
    try:
        lines = await service.time_lines(ctx.sid, activity.id, day)
    except NotFound:
        raise not_found("Cette journée") from None
    return {
        "activity": activity,
        "day": day,
        "day_label": long_date(day),
        "lines": lines,
        "errors": [],
        "sheet_url": _sheet_url(ctx, activity.id, day),
    }


@get("/gestion/s/{sid:int}/presences/horaires", opt=allow(OPERATIONS))
async def times_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    activite: FromQuery[str | None] = None, jour: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    activity, day = await _target(ctx, activite, jour)
    context = await times_context(ctx, activity, day)
    return render(
        request, ctx, "pages/staff/attendance_times.html", title="Horaires réalisés",
        nav="presences", **context,
    )  # fmt: skip


@post("/gestion/s/{sid:int}/presences/horaires", opt=allow(OPERATIONS))
async def save_times(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    activity, day = await _target(ctx, data.get("activite"), data.get("jour"))
    context = await times_context(ctx, activity, day)
    chosen: dict[int, tuple[time, time]] = {}
    errors = []
    for line in context["lines"]:
        raw_arrival = data.get(f"arrivee_{line.reservation_id}")
        raw_departure = data.get(f"depart_{line.reservation_id}")
        if not raw_arrival and not raw_departure:
            continue  # not seen yet: left empty
        arrival, departure = _time(raw_arrival), _time(raw_departure)
        if arrival is None or departure is None:
            errors.append(f"{line.person} : indiquez l'arrivée et le départ (HH:MM).")
            continue
        chosen[line.reservation_id] = (arrival, departure)
    if not errors:
        try:
            changed = await service.record_times(ctx.actor, ctx.sid, activity.id, day, chosen)
        except service.AttendanceError as exc:
            errors.append(str(exc))
    if errors:
        context["errors"] = errors
        return render(
            request, ctx, "pages/staff/attendance_times.html", title="Horaires réalisés",
            nav="presences", status_code=400, **context,
        )  # fmt: skip
    flash(request, f"Horaires enregistrés ({changed} modifié{'s' if changed > 1 else ''}).")
    return see_other(_sheet_url(ctx, activity.id, day, "presences/horaires"))


ROUTES = [all_present, add_unexpected, times_page, save_times]
