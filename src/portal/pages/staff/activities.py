"""Activités: settings, tariffs, enrolments; days (generate, open or close, capacity)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain import form_fields as fields
from portal.domain.booking import deadline_form, deadlines
from portal.domain.form_fields import FormError
from portal.domain.french_dates import month_label, parse_month, short_date
from portal.domain.numbers import parse_count
from portal.domain.staff import activities as service
from portal.domain.staff import archive, rules
from portal.domain.staff import schedule as day_schedule
from portal.domain.staff.roles import OPERATIONS, OPERATIONS_READ
from portal.domain.staff.service import NotFound
from portal.tables import Activity
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import (
    Staff,
    StaffPage,
    not_found,
    render,
    shift_month,
    values,
)

RULE_EXAMPLES = [
    ("days:2@10:00", deadlines.describe_rule(deadlines.parse_rule("days:2@10:00"))),
    ("workdays:1@18:00", deadlines.describe_rule(deadlines.parse_rule("workdays:1@18:00"))),
    ("prevweek:thu@10:00", deadlines.describe_rule(deadlines.parse_rule("prevweek:thu@10:00"))),
]


NEW_ACTIVITY: dict[str, Any] = {
    "nom": "", "porte_monnaie": "", "couleur": "#1d4ed8", "debut": "08:30",
    "fin": "17:30", "capacite": "", "liste_attente": "0", "decision": False,
    "ouverture": "", "delai_reservation": "days:2@10:00",
    "delai_annulation": "days:2@10:00", "saisie_horaires": False, "arrivees": "",
    "departs": "", "unite": "30", "position": "0", "active": True,
}  # fmt: skip
FLAGS = ("decision", "saisie_horaires", "active")


def activity_form(activity: Activity | None, ctx: StaffPage) -> dict[str, Any]:
    """The form's values: from the activity, or the defaults of a new one."""
    if activity is None:
        return dict(NEW_ACTIVITY)
    return {
        "nom": activity.name,
        "porte_monnaie": str(activity.wallet_type),
        "couleur": activity.color,
        "debut": activity.start_time.strftime("%H:%M"),
        "fin": activity.end_time.strftime("%H:%M"),
        "capacite": "" if activity.capacity is None else str(activity.capacity),
        "liste_attente": ""
        if activity.waitlist_capacity is None
        else str(activity.waitlist_capacity),
        "decision": activity.needs_decision,
        "ouverture": fields.local_input(activity.booking_opens_at, ctx.tz),
        "delai_reservation": activity.booking_deadline,
        "delai_annulation": activity.cancellation_deadline,
        "saisie_horaires": activity.time_entry,
        "arrivees": activity.allowed_arrivals.replace(",", ", "),
        "departs": activity.allowed_departures.replace(",", ", "),
        "unite": str(activity.billing_unit_minutes or 30),
        "position": str(activity.position),
        "active": activity.active,
    }


def submitted_form(data: dict[str, Any]) -> dict[str, Any]:
    form: dict[str, Any] = {k: fields.field_text(data, k, 4000) for k in NEW_ACTIVITY}
    for flag in FLAGS:
        form[flag] = fields.field_flag(data, flag)
    return form


@get("/gestion/s/{sid:int}/activites", opt=allow(OPERATIONS_READ))
async def activities_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]
) -> Template:
    rows = await service.activities(ctx.sid)
    return render(
        request, ctx, "pages/staff/activities.html", title="Activités", nav="activites",
        activities=rows, describe=rules.describe_deadline,
    )  # fmt: skip


DEADLINES = {"delai_reservation": "Délai de réservation", "delai_annulation": "Délai d'annulation"}


def deadline_fields(form: dict[str, Any], prefix: str) -> dict[str, str]:
    """The four fields of a deadline: as submitted beside an error, else from its code."""
    return form.get(f"{prefix}_champs") or deadline_form.fields_of(str(form.get(prefix, "")))


def parse_form(data: dict[str, Any], wallet_ids: list[int], ctx: StaffPage) -> Any:
    """The activity form, its deadlines composed from their French fields first."""
    composed, errors = deadline_form.with_codes(data, DEADLINES)
    try:
        parsed = rules.parse_activity_form(composed, wallet_ids, ctx.tz)
    except FormError as exc:
        raise FormError(errors + exc.errors) from None
    if errors:
        raise FormError(errors)
    return parsed


def submitted_with_deadlines(data: dict[str, Any]) -> dict[str, Any]:
    form = submitted_form(data)
    for prefix in DEADLINES:
        form[f"{prefix}_champs"] = deadline_form.submitted_fields(data, prefix)
    return form


def _archived(ctx: StaffPage, activity: Activity | None) -> str:
    """The notice of an archived school year's activity (consulted, no longer changed)."""
    if activity is None or activity.archived_at is None:
        return ""
    return archive.archived_text(activity.archived_at, ctx.tz)


async def _edit_context(ctx: StaffPage, activity: Activity | None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "activity": activity,
        "wallet_types": await service.wallet_types(ctx.sid),
        "rule_examples": RULE_EXAMPLES,
        "describe": rules.describe_deadline,
        "deadline_fields": deadline_fields,
        "deadline_kinds": deadline_form.KINDS,
        "weekdays": deadline_form.WEEKDAYS,
        "errors": [],
        "form": activity_form(activity, ctx),
        "weekday_labels": day_schedule.WEEKDAY_LABELS,
        "archived": _archived(ctx, activity),
    }
    if activity is not None:
        context["tariffs"] = await service.tariffs(activity.id)
        context["enrolments"] = await service.enrolment_choices(ctx.sid, activity.id)
        context["tariff_form"] = {"tranche": "", "prix": "", "a_partir_du": ""}
        context["tariff_errors"] = []
    return context


@get("/gestion/s/{sid:int}/activites/nouvelle", opt=allow(OPERATIONS))
async def new_activity_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]
) -> Template:
    context = await _edit_context(ctx, None)
    return render(
        request, ctx, "pages/staff/activity.html", title="Nouvelle activité", nav="activites",
        **context,
    )  # fmt: skip


@post("/gestion/s/{sid:int}/activites/nouvelle", opt=allow(OPERATIONS))
async def create_activity(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    wallet_types = await service.wallet_types(ctx.sid)
    try:
        parsed = parse_form(data, [w.id for w in wallet_types], ctx)
    except FormError as exc:
        context = await _edit_context(ctx, None)
        context.update(errors=exc.errors, form=submitted_with_deadlines(data))
        return render(
            request, ctx, "pages/staff/activity.html", title="Nouvelle activité",
            nav="activites", status_code=400, **context,
        )  # fmt: skip
    activity_id = await service.create_activity(ctx.actor, ctx.sid, parsed)
    flash(request, f"Activité « {parsed.name} » créée. Ajoutez ses tarifs et générez ses journées.")
    return see_other(f"{ctx.url}/activites/{activity_id}")


async def _activity(ctx: StaffPage, aid: int) -> Activity:
    try:
        return await service.activity_in(ctx.sid, aid)
    except NotFound:
        raise not_found("Cette activité") from None


@get("/gestion/s/{sid:int}/activites/{aid:int}", opt=allow(OPERATIONS_READ))
async def activity_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], aid: FromPath[int]
) -> Template:
    activity = await _activity(ctx, aid)
    context = await _edit_context(ctx, activity)
    return render(
        request, ctx, "pages/staff/activity.html", title=activity.name, nav="activites",
        **context,
    )  # fmt: skip


@post("/gestion/s/{sid:int}/activites/{aid:int}", opt=allow(OPERATIONS))
async def update_activity(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], aid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    activity = await _activity(ctx, aid)
    wallet_types = await service.wallet_types(ctx.sid)
    try:
        parsed = parse_form(data, [w.id for w in wallet_types], ctx)
    except FormError as exc:
        context = await _edit_context(ctx, activity)
        context.update(errors=exc.errors, form=submitted_with_deadlines(data))
        return render(
            request, ctx, "pages/staff/activity.html", title=activity.name, nav="activites",
            status_code=400, **context,
        )  # fmt: skip
    await service.update_activity(ctx.actor, ctx.sid, aid, parsed)
    flash(request, "Paramètres enregistrés. Les journées déjà créées gardent leur capacité.")
    return see_other(f"{ctx.url}/activites/{aid}")


@post("/gestion/s/{sid:int}/activites/{aid:int}/tarifs", opt=allow(OPERATIONS))
async def set_tariff(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], aid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    activity = await _activity(ctx, aid)
    try:
        parsed = rules.parse_tariff_form(data)
    except FormError as exc:
        context = await _edit_context(ctx, activity)
        context.update(
            tariff_errors=exc.errors,
            tariff_form={
                k: fields.field_text(data, k, 30) for k in ("tranche", "prix", "a_partir_du")
            },
        )
        return render(
            request, ctx, "pages/staff/activity.html", title=activity.name, nav="activites",
            status_code=400, **context,
        )  # fmt: skip
    await service.set_tariff(ctx.actor, ctx.sid, aid, parsed)
    flash(request, f"Tarif de la tranche {parsed.band} enregistré.")
    return see_other(f"{ctx.url}/activites/{aid}#tarifs")


@post("/gestion/s/{sid:int}/activites/{aid:int}/inscriptions", opt=allow(OPERATIONS))
async def set_enrolments(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], aid: FromPath[int],
    data: MultiForm,
) -> Redirect:  # fmt: skip
    await _activity(ctx, aid)
    chosen = {n for v in values(data, "personne") if (n := parse_count(v)) is not None}
    try:
        added, removed = await service.set_enrolments(ctx.actor, ctx.sid, aid, chosen)
    except NotFound:
        raise not_found("Cet enfant") from None
    flash(request, f"Inscriptions enregistrées : {added} ajoutée(s), {removed} retirée(s).")
    return see_other(f"{ctx.url}/activites/{aid}#inscriptions")


# --- days ------------------------------------------------------------------------------


async def _days_context(ctx: StaffPage, activity: Activity, mois: str | None) -> dict[str, Any]:
    year, month = parse_month(mois, ctx.today)
    days = await service.month_days(ctx.sid, activity.id, year, month)
    next_month = shift_month(year, month, 1)
    return {
        "activity": activity,
        "days": days,
        "month": f"{year:04d}-{month:02d}",
        "month_label": month_label(year, month),
        "previous_month": shift_month(year, month, -1),
        "next_month": next_month,
        "short_date": short_date,
        "weekday_labels": day_schedule.WEEKDAY_LABELS,
        "generation": {
            "du": f"{next_month}-01",
            "au": "",
            "jours": [],
            "fermetures": "",
        },
        "errors": [],
        "result": None,
        "archived": _archived(ctx, activity),
    }


@get("/gestion/s/{sid:int}/activites/{aid:int}/journees", opt=allow(OPERATIONS_READ))
async def days_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], aid: FromPath[int],
    mois: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    activity = await _activity(ctx, aid)
    context = await _days_context(ctx, activity, mois)
    return render(
        request, ctx, "pages/staff/days.html", title=f"Journées · {activity.name}",
        nav="activites", **context,
    )  # fmt: skip


@post("/gestion/s/{sid:int}/activites/{aid:int}/generer", opt=allow(OPERATIONS))
async def generate_days(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], aid: FromPath[int],
    data: MultiForm,
) -> Template:  # fmt: skip
    activity = await _activity(ctx, aid)
    weekdays = values(data, "jours")
    try:
        schedule = day_schedule.parse_schedule_form(data, weekdays)
    except FormError as exc:
        context = await _days_context(ctx, activity, fields.field_text(data, "mois", 7) or None)
        context["errors"] = exc.errors
        context["generation"] = {
            "du": fields.field_text(data, "du", 12), "au": fields.field_text(data, "au", 12),
            "jours": weekdays, "fermetures": fields.field_text(data, "fermetures", 4000),
        }  # fmt: skip
        return render(
            request, ctx, "pages/staff/days.html", title=f"Journées · {activity.name}",
            nav="activites", status_code=400, **context,
        )  # fmt: skip
    result = await service.generate_days(ctx.actor, ctx.sid, aid, schedule)
    first = schedule.first
    context = await _days_context(ctx, activity, f"{first.year:04d}-{first.month:02d}")
    context["result"] = result
    return render(
        request, ctx, "pages/staff/days.html", title=f"Journées · {activity.name}",
        nav="activites", **context,
    )  # fmt: skip


async def _day_back(ctx: StaffPage, day_id: int) -> tuple[int, str]:
    try:
        day = await service.day_in(ctx.sid, day_id)
    except NotFound:
        raise not_found("Cette journée") from None
    activity_id = int(day.activity)
    return activity_id, f"{ctx.url}/activites/{activity_id}/journees?mois={day.day:%Y-%m}"


@post("/gestion/s/{sid:int}/journees/{did:int}/ouverture", opt=allow(OPERATIONS))
async def set_day_open(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], did: FromPath[int],
    data: MultiForm,
) -> Redirect:  # fmt: skip
    _, back = await _day_back(ctx, did)
    is_open = fields.field_flag(data, "ouvert")
    await service.set_day_open(ctx.actor, ctx.sid, did, is_open)
    flash(request, "Journée ouverte aux demandes." if is_open else "Journée fermée aux demandes.")
    return see_other(back)


@post("/gestion/s/{sid:int}/journees/{did:int}/capacite", opt=allow(OPERATIONS))
async def set_day_capacity(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], did: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    activity_id, back = await _day_back(ctx, did)
    try:
        capacity = fields.parse_count(fields.field_text(data, "capacite", 6), "La capacité")
        waitlist = fields.parse_count(
            fields.field_text(data, "liste_attente", 6), "La liste d'attente"
        )
        promoted = await service.set_day_capacity(ctx.actor, ctx.sid, did, capacity, waitlist)
    except (FormError, ValueError) as exc:
        activity = await _activity(ctx, activity_id)
        day = await service.day_in(ctx.sid, did)
        context = await _days_context(ctx, activity, f"{day.day:%Y-%m}")
        context["errors"] = exc.errors if isinstance(exc, FormError) else [str(exc)]
        return render(
            request, ctx, "pages/staff/days.html", title=f"Journées · {activity.name}",
            nav="activites", status_code=409 if isinstance(exc, FormError) else 400, **context,
        )  # fmt: skip
    message = "Capacité enregistrée."
    if promoted:
        message += f" {len(promoted)} demande(s) de la liste d'attente acceptée(s) et prévenue(s)."
    flash(request, message)
    return see_other(back)


ROUTES = [
    activities_page,
    new_activity_page,
    create_activity,
    activity_page,
    update_activity,
    set_tariff,
    set_enrolments,
    days_page,
    generate_days,
    set_day_open,
    set_day_capacity,
]
