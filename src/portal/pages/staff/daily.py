"""Décisions (pending requests and waitlists) and Présences (the attendance list).

Full pages, and the same regions (a day of decisions, an attendance row) as htmx
fragments, from the same context functions.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain.form_fields import FormError
from portal.domain.french_dates import long_date as french_date
from portal.domain.french_dates import short_date
from portal.domain.numbers import parse_count
from portal.domain.paging.rules import Paging, page_number
from portal.domain.staff import activities as activity_service
from portal.domain.staff import attendance, decisions
from portal.domain.staff.presence import Presence
from portal.domain.staff.roles import OPERATIONS, OPERATIONS_READ
from portal.domain.staff.service import NotFound
from portal.web.forms import MultiForm, int_or_none
from portal.web.render import flash, see_other
from portal.web.staff import allow

from . import absences as staff_absences
from .attendance_speed import speed_context
from .common import (
    Staff,
    StaffPage,
    not_found,
    parse_day,
    render,
)

# --- decisions -----------------------------------------------------------------------------


async def decisions_context(
    ctx: StaffPage, activite: str | None, jour: str | None, page: str | None = None
) -> dict[str, Any]:
    activity_id = int_or_none(activite)
    day = parse_day(jour)
    activities = await activity_service.activities(ctx.sid)
    if activity_id is not None and activity_id not in {a.id for a in activities}:
        raise not_found("Cette activité")
    filters: dict[str, Any] = {
        "activity_id": activity_id,
        "day": day,
        "since": None if day else ctx.today,
    }
    paging = Paging.of(page_number(page), await decisions.count_waiting(ctx.sid, **filters))
    groups = await decisions.waiting_requests(
        ctx.sid, **filters, offset=paging.offset, limit=paging.size
    )
    return {
        "paging": paging,
        "list_url": _decisions_url(ctx, activity_id, day),
        "activities": activities,
        "activity_id": activity_id,
        "day": day,
        "groups": groups,
        "short_date": short_date,
        "errors": [],
        "back": paging.url(_decisions_url(ctx, activity_id, day), paging.number),
        # Absences declared by families ("enfant malade"), decided on this page too.
        **await staff_absences.waiting_context(ctx),
    }


def _decisions_url(ctx: StaffPage, activity_id: int | None, day: date | None) -> str:
    query = []
    if activity_id is not None:
        query.append(f"activite={activity_id}")
    if day is not None:
        query.append(f"jour={day.isoformat()}")
    return f"{ctx.url}/decisions" + ("?" + "&".join(query) if query else "")


@get("/gestion/s/{sid:int}/decisions", opt=allow(OPERATIONS_READ))
async def decisions_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    activite: FromQuery[str | None] = None, jour: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    context = await decisions_context(ctx, activite, jour, page)
    return render(
        request, ctx, "pages/staff/decisions.html", title="Décisions", nav="decisions", **context
    )


async def apply_decision(ctx: StaffPage, rid: int, data: dict[str, Any]) -> decisions.Decided:
    """Shared by the page and the fragment; raises DecisionError with a French message."""
    choice = str(data.get("decision", ""))
    if choice not in ("accepter", "accepter-en-plus", "refuser"):
        raise decisions.DecisionError("Choisissez d'accepter ou de refuser la demande.")
    try:
        return await decisions.decide(
            ctx.actor,
            ctx.sid,
            rid,
            accept=choice != "refuser",
            extra_place=choice == "accepter-en-plus",
        )
    except NotFound:
        raise not_found("Cette demande") from None


@post("/gestion/s/{sid:int}/decisions/{rid:int}", opt=allow(OPERATIONS))
async def decide(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], rid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    back = str(data.get("retour", ""))
    if not back.startswith(f"{ctx.url}/decisions"):
        back = f"{ctx.url}/decisions"
    try:
        decided = await apply_decision(ctx, rid, data)
    except decisions.DecisionError as exc:
        context = await decisions_context(
            ctx, str(data.get("activite") or "") or None, str(data.get("jour") or "") or None
        )
        context["errors"] = [str(exc)]
        return render(
            request, ctx, "pages/staff/decisions.html", title="Décisions", nav="decisions",
            status_code=409, **context,
        )  # fmt: skip
    flash(request, decided.message)
    return see_other(back)


# --- attendance ----------------------------------------------------------------------------


async def attendance_context(
    ctx: StaffPage, activite: str | None, jour: str | None
) -> dict[str, Any]:
    activities = await activity_service.activities(ctx.sid)
    activity_id = int_or_none(activite)
    if activite not in (None, "") and activity_id not in {a.id for a in activities}:
        raise not_found("Cette activité")
    if activity_id is None and activities:
        activity_id = activities[0].id
    day = parse_day(jour) or ctx.today
    listing = None
    activity = next((a for a in activities if a.id == activity_id), None)
    if activity is not None:
        listing = await attendance.attendance_list(ctx.sid, activity.id, day)
    return {
        "activities": activities,
        "activity": activity,
        "day": day,
        "day_label": french_date(day),
        "listing": listing,
        "presences": list(Presence),
        **await speed_context(ctx, activity.id if activity else None, day),
    }


@get("/gestion/s/{sid:int}/presences", opt=allow(OPERATIONS_READ))
async def attendance_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    activite: FromQuery[str | None] = None, jour: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    context = await attendance_context(ctx, activite, jour)
    return render(
        request, ctx, "pages/staff/attendance.html", title="Liste de présence",
        nav="presences", **context,
    )  # fmt: skip


async def apply_mark(ctx: StaffPage, rid: int, data: dict[str, Any]) -> attendance.AttendanceLine:
    try:
        presence = Presence(str(data.get("etat", "")))
    except ValueError:
        raise FormError(["Choisissez présent, absent ou absence justifiée."]) from None
    try:
        return await attendance.mark(ctx.actor, ctx.sid, rid, presence)
    except NotFound:
        raise not_found("Cette réservation") from None


@post("/gestion/s/{sid:int}/presences/{rid:int}", opt=allow(OPERATIONS))
async def mark_attendance(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], rid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    try:
        line = await apply_mark(ctx, rid, data)
    except FormError as exc:
        context = await attendance_context(
            ctx, str(data.get("activite") or "") or None, str(data.get("jour") or "") or None
        )
        context["errors"] = exc.errors
        return render(
            request, ctx, "pages/staff/attendance.html", title="Liste de présence",
            nav="presences", status_code=400, **context,
        )  # fmt: skip
    flash(request, f"{line.person} : {line.presence.label}.")
    activity = int_or_none(data.get("activite"))
    day = parse_day(str(data.get("jour", "")))
    query = f"?activite={activity}&jour={day.isoformat()}" if activity and day else ""
    return see_other(f"{ctx.url}/presences{query}")


# --- htmx fragments ------------------------------------------------------------------------


def _fragment(template: str, **context: Any) -> Template:
    return Template(template_name=template, context=context)


@post("/partials/gestion/s/{sid:int}/decisions/{rid:int}", opt=allow(OPERATIONS))
async def decide_fragment(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], rid: FromPath[int],
    data: MultiForm,
) -> Template:  # fmt: skip
    day_id = parse_count(data.get("journee")) or 0
    message, error = None, None
    try:
        decided = await apply_decision(ctx, rid, data)
        day_id, message = decided.day_id, decided.message
    except decisions.DecisionError as exc:
        error = str(exc)
    groups = await decisions.waiting_requests(ctx.sid, day_id=day_id)
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


@post("/partials/gestion/s/{sid:int}/presences/{rid:int}", opt=allow(OPERATIONS))
async def mark_fragment(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], rid: FromPath[int],
    data: MultiForm,
) -> Template:  # fmt: skip
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


ROUTES = [decisions_page, decide, attendance_page, mark_attendance, decide_fragment, mark_fragment]
