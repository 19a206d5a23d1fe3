"""Réserver pour une famille: the parent's calendar and basket, used by a clerk.

Every page and fragment is the parent's (portal.pages.booking), on the same URLs as the
pages (htmx gets the fragment: web/htmx.py), through a staff `BookingDesk`: the family of
the URL (checked against the structure), the clerk's own basket for that family in the
staff session, the structure as booker, and the override of deadlines and capacity that
the clerk chose, with its reason, for this family (kept in the session until the basket
is confirmed).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.db import read_snapshot
from portal.domain.booking.on_behalf import Booker
from portal.domain.booking.scope import BookingError
from portal.domain.file_review import health_access
from portal.domain.staff import on_behalf
from portal.domain.staff.families import family_in
from portal.domain.staff.roles import OPERATIONS
from portal.domain.staff.service import NotFound
from portal.pages import booking as parent_pages
from portal.web.basket import load_basket, save_basket
from portal.web.booking_desk import BookingDesk
from portal.web.forms import Form, MultiForm
from portal.web.htmx import varies, wants_fragment
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, render

ROOT = "/gestion/s/{sid:int}/familles/{fid:int}/reservations"
OVERRIDES = "booking_overrides"  # session key: family id -> the clerk's override choice


def _choice(request: Request[Any, Any, Any], fid: int) -> on_behalf.OverrideChoice:
    stored = request.session.get(OVERRIDES, {}).get(str(fid))
    if not isinstance(stored, dict):
        return on_behalf.NO_CHOICE
    try:
        return on_behalf.OverrideChoice.parse(
            bool(stored.get("deadlines")), bool(stored.get("capacity")), str(stored.get("reason"))
        )
    except BookingError:
        return on_behalf.NO_CHOICE


def _keep_choice(
    request: Request[Any, Any, Any], fid: int, choice: on_behalf.OverrideChoice
) -> None:
    overrides = dict(request.session.get(OVERRIDES, {}))
    if choice.override.active:
        overrides[str(fid)] = {
            "deadlines": choice.override.deadlines,
            "capacity": choice.override.capacity,
            "reason": choice.reason,
        }
    else:
        overrides.pop(str(fid), None)
    request.session[OVERRIDES] = overrides


async def staff_desk(request: Request[Any, Any, Any], ctx: StaffPage, fid: int) -> BookingDesk:
    """The desk of a family of this structure (404 otherwise)."""
    try:
        family = await family_in(ctx.sid, fid)
    except NotFound:
        raise not_found("Cette famille") from None
    choice = _choice(request, fid)
    url = f"{ctx.url}/familles/{fid}/reservations"
    return BookingDesk(
        family_id=fid,
        url=url,
        booker=Booker.STAFF,
        override=choice.override,
        override_reason=choice.reason,
        base_template="staff_base.html",
        family_name=str(family.name),
        family_url=f"{ctx.url}/familles/{fid}",
        extra={"pay_url": f"{ctx.url}/reglements?famille={fid}"},
        health_sealed=not await health_access.has_health_access(ctx.actor, ctx.sid),
    )


def _page(
    request: Request[Any, Any, Any],
    ctx: StaffPage,
    desk: BookingDesk,
    template: str,
    title: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> Template:
    return render(
        request, ctx, template, title=f"{title} : {desk.family_name}", nav="familles",
        status_code=status_code, **context,
    )  # fmt: skip


@get(ROOT, opt=allow(OPERATIONS))
async def calendar_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    personne: FromQuery[str | None] = None, activite: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    desk = await staff_desk(request, ctx, fid)
    async with read_snapshot():
        context = await parent_pages.calendar_context(request, desk, personne, activite, mois)
    if wants_fragment(request):
        return parent_pages.board_fragment(desk, context)
    return varies(_page(request, ctx, desk, "pages/booking/index.html", "Réservations", context))


@post(ROOT + "/basculer", opt=allow(OPERATIONS))
async def tap(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    data: MultiForm,
) -> Redirect | Template | Response[str]:  # fmt: skip
    return await parent_pages.tap_answer(request, await staff_desk(request, ctx, fid), data)


@get(ROOT + "/jour/{day_text:str}", opt=allow(OPERATIONS))
async def day_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    day_text: FromPath[str], personne: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    desk = await staff_desk(request, ctx, fid)
    context = await parent_pages.day_context(request, desk, day_text, personne, mois)
    if wants_fragment(request):
        return parent_pages.day_fragment(desk, context)
    return varies(
        _page(request, ctx, desk, "pages/booking/day.html", context["day_label"], context)
    )


@get(ROOT + "/horaires", opt=allow(OPERATIONS))
async def times_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    personne: FromQuery[str | None] = None, activite: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None, jours: FromQuery[str] = "",
    depuis: FromQuery[str | None] = None, arrivee: FromQuery[str | None] = None,
    depart: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    desk = await staff_desk(request, ctx, fid)
    context = await parent_pages.times_context(
        request, desk, personne, activite, mois, jours, depuis, arrivee, depart
    )
    return _page(request, ctx, desk, "pages/booking/times.html", "Horaires", context)


@post(ROOT + "/horaires", opt=allow(OPERATIONS))
async def times_submit(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    desk = await staff_desk(request, ctx, fid)
    context, errors = await parent_pages.submit_times(request, desk, data)
    if errors:
        return _page(request, ctx, desk, "pages/booking/times.html", "Horaires", context, 400)
    return see_other(context["back_url"])


@get(ROOT + "/recapitulatif", opt=allow(OPERATIONS))
async def recap_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int]
) -> Template:
    desk = await staff_desk(request, ctx, fid)
    async with read_snapshot():
        context = await parent_pages.recap_context(request, desk)
        back = await parent_pages.back_query(desk, request.query_params)
    return _page(
        request, ctx, desk, "pages/booking/recap.html", "Récapitulatif",
        {**context, "back_query": back},
    )  # fmt: skip


@post(ROOT + "/valider", opt=allow(OPERATIONS))
async def confirm(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int]
) -> Redirect:
    desk = await staff_desk(request, ctx, fid)
    basket = load_basket(request, fid)
    if not len(basket):
        flash(request, "Le panier est vide : il n'y a rien à valider.", "info")
        return see_other(desk.url)
    results = await on_behalf.apply_for_family(
        ctx.actor, ctx.sid, fid, basket, _choice(request, fid), health_sealed=desk.health_sealed
    )
    save_basket(request, fid, basket)
    # The override was chosen for this basket: the next one starts without it.
    _keep_choice(request, fid, on_behalf.NO_CHOICE)
    parent_pages.remember_results(request, fid, results)
    return see_other(f"{desk.url}/resultat")


@get(ROOT + "/resultat", opt=allow(OPERATIONS))
async def result_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int]
) -> Template | Redirect:
    desk = await staff_desk(request, ctx, fid)
    context = await parent_pages.result_context(request, desk)
    if context is None:
        return see_other(desk.url)
    return _page(request, ctx, desk, "pages/booking/result.html", "Demandes enregistrées", context)


@post(ROOT + "/abandonner", opt=allow(OPERATIONS))
async def abandon(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    data: Form,
) -> Redirect:  # fmt: skip
    return await parent_pages.abandon_basket(request, await staff_desk(request, ctx, fid), data)


@get(ROOT + "/importer", opt=allow(OPERATIONS))
async def copy_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int]
) -> Template:
    desk = await staff_desk(request, ctx, fid)
    context = await parent_pages.copy_context(desk)
    return _page(request, ctx, desk, "pages/booking/copy.html", "Importer", context)


@post(ROOT + "/importer", opt=allow(OPERATIONS))
async def copy_submit(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    data: MultiForm,
) -> Template:  # fmt: skip
    desk = await staff_desk(request, ctx, fid)
    context, status = await parent_pages.submit_copy(request, desk, data)
    return _page(request, ctx, desk, "pages/booking/copy.html", "Importer", context, status)


@post(ROOT + "/derogation", opt=allow(OPERATIONS))
async def set_override(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    data: MultiForm,
) -> Redirect:  # fmt: skip
    """Choose (or drop) the override of deadlines and capacity for this family's basket."""
    desk = await staff_desk(request, ctx, fid)
    try:
        choice = on_behalf.OverrideChoice.parse(
            data.get("delais") == "1", data.get("capacite") == "1", str(data.get("motif") or "")
        )
    except BookingError as exc:
        flash(request, str(exc), "error")
        return see_other(desk.url)
    _keep_choice(request, fid, choice)
    flash(
        request,
        f"Dérogation active : {' et '.join(choice.override.labels)}."
        if choice.override.active
        else "Aucune dérogation : les délais et la capacité s'appliquent.",
        "info",
    )
    return see_other(desk.url)


ROUTES = [
    calendar_page,
    tap,
    day_page,
    times_page,
    times_submit,
    recap_page,
    confirm,
    result_page,
    abandon,
    copy_page,
    copy_submit,
    set_override,
]
