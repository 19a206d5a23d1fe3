"""Enrolment requests: the parent's "Inscriptions" page, and the staff's list, decisions
and per-activity settings (under /gestion)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain.exports import tabular
from portal.domain.exports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from portal.domain.exports.xlsx import xlsx_in_thread
from portal.domain.family_file.rules import FileError
from portal.domain.family_file.service import children_of
from portal.domain.file_review import enrolment
from portal.domain.staff.roles import OPERATIONS, OPERATIONS_READ
from portal.pages.staff.common import Staff, not_found, render
from portal.settings import Settings
from portal.web.context import Parent
from portal.web.forms import MultiForm, int_or_none
from portal.web.render import flash, page, see_other
from portal.web.staff import allow


def _first(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return str(value[0] if isinstance(value, list) and value else value or "")


async def _parent_page(
    request: Request[Any, Any, Any], parent: Parent, *, status_code: int = 200,
    errors: list[str] | None = None,
) -> Template:  # fmt: skip
    return page(
        request,
        "pages/enrolment/index.html",
        parent,
        status_code=status_code,
        page_title="Inscriptions",
        nav_active="dossier",
        offers=await enrolment.offers(parent.structure_id, open_only=True),
        children=await children_of(parent.family_id),
        requests=await enrolment.family_requests(parent.family_id),
        errors=errors or [],
    )


@get("/inscriptions")
async def enrolment_page(request: Request[Any, Any, Any], parent: Parent) -> Template:
    return await _parent_page(request, parent)


@post("/inscriptions")
async def ask_enrolment(
    request: Request[Any, Any, Any], parent: Parent, data: MultiForm
) -> Template | Redirect:
    person_id = int_or_none(_first(data, "enfant"))
    activity_id = int_or_none(_first(data, "activite"))
    try:
        if person_id is None or activity_id is None:
            raise FileError("Choisissez l'enfant et l'activité.")
        line = await enrolment.request_enrolment(
            parent.family_id, parent.account_id, person_id, activity_id
        )
    except FileError as exc:
        return await _parent_page(request, parent, status_code=400, errors=[str(exc)])
    except enrolment.NotFound:
        raise NotFoundException("Cet enfant n'appartient pas à votre famille.") from None
    flash(
        request, f"Demande d'inscription de {line.person_name} à « {line.activity_name} » envoyée."
    )
    return see_other("/inscriptions")


@post("/inscriptions/{request_id:int}/annuler")
async def cancel_enrolment(
    request: Request[Any, Any, Any], parent: Parent, request_id: FromPath[int]
) -> Redirect:
    try:
        await enrolment.cancel_request(parent.family_id, request_id)
    except enrolment.NotFound:
        raise NotFoundException(
            "Cette demande n'existe pas, n'est plus en attente ou n'appartient pas à votre famille."
        ) from None
    flash(request, "Demande d'inscription annulée.")
    return see_other("/inscriptions")


# --- staff ------------------------------------------------------------------------------


@get("/gestion/s/{sid:int}/inscriptions", opt=allow(OPERATIONS_READ))
async def staff_requests(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    etat: FromQuery[str] = "pending", format: FromQuery[str] = "",
) -> Template | Response[bytes]:  # fmt: skip
    status = (
        etat if etat in enrolment.STATUS_LABELS or etat == "" else enrolment.RequestStatus.PENDING
    )
    lines = await enrolment.structure_requests(ctx.sid, status)
    if format in ("csv", "xlsx"):
        table = tabular.Table(
            ("Famille", "Enfant", "Activité", "Début", "Fin", "Demandée le", "État", "Motif"),
            [
                (r.family_name, r.person_name, r.activity_name, r.period_start, r.period_end,
                 r.created_at.date(), r.status_label, r.reason)
                for r in lines
            ],
        )  # fmt: skip
        if format == "xlsx":
            return Response(
                content=await xlsx_in_thread(table, "Inscriptions"),
                media_type=XLSX_MEDIA_TYPE,
                headers={"content-disposition": 'attachment; filename="inscriptions.xlsx"'},
            )
        return Response(
            content=tabular.csv_text(table).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="inscriptions.csv"'},
        )
    return render(
        request, ctx, "pages/enrolment/staff.html", title="Inscriptions", nav="dossiers",
        lines=lines, status=status, labels=enrolment.STATUS_LABELS,
        offers=await enrolment.offers(ctx.sid), errors=[],
    )  # fmt: skip


@post("/gestion/s/{sid:int}/inscriptions/{erid:int}/decision", opt=allow(OPERATIONS))
async def staff_decide(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], erid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    settings: Settings = request.app.state.settings
    decision = _first(data, "decision")
    try:
        if decision not in ("accepter", "refuser"):
            raise FileError("Choisissez d'accepter ou de refuser la demande.")
        line = await enrolment.decide_request(
            ctx.actor, ctx.sid, erid, accept=decision == "accepter",
            reason=_first(data, "motif"), base_url=settings.base_url,
        )  # fmt: skip
    except enrolment.NotFound:
        raise not_found("Cette demande") from None
    except FileError as exc:
        pending = enrolment.RequestStatus.PENDING
        return render(
            request, ctx, "pages/enrolment/staff.html", title="Inscriptions", nav="dossiers",
            status_code=400, lines=await enrolment.structure_requests(ctx.sid, pending),
            status=pending, labels=enrolment.STATUS_LABELS,
            offers=await enrolment.offers(ctx.sid), errors=[str(exc)],
        )  # fmt: skip
    flash(
        request,
        f"Inscription de {line.person_name} "
        + ("acceptée : l'enfant peut réserver." if decision == "accepter" else "refusée."),
    )
    return see_other(f"{ctx.url}/inscriptions")


@get("/gestion/s/{sid:int}/activites/{aid:int}/inscriptions-portail", opt=allow(OPERATIONS_READ))
async def offer_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], aid: FromPath[int]
) -> Template:
    offer = next((o for o in await enrolment.offers(ctx.sid) if o.activity_id == aid), None)
    if offer is None:
        raise not_found("Cette activité")
    return render(
        request, ctx, "pages/enrolment/offer.html", title=f"Inscriptions : {offer.activity_name}",
        nav="dossiers", offer=offer, types=await enrolment.document_types(ctx.sid), errors=[],
    )  # fmt: skip


@post("/gestion/s/{sid:int}/activites/{aid:int}/inscriptions-portail", opt=allow(OPERATIONS))
async def save_offer(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], aid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    try:
        errors = await enrolment.save_offer(ctx.actor, ctx.sid, aid, data)
    except enrolment.NotFound:
        raise not_found("Cette activité") from None
    if errors:
        offer = next(o for o in await enrolment.offers(ctx.sid) if o.activity_id == aid)
        title = f"Inscriptions : {offer.activity_name}"
        return render(
            request, ctx, "pages/enrolment/offer.html", title=title,
            nav="dossiers", status_code=400, offer=offer,
            types=await enrolment.document_types(ctx.sid), errors=errors,
        )  # fmt: skip
    flash(request, "Réglages d'inscription enregistrés.")
    return see_other(f"{ctx.url}/inscriptions")


ROUTES = [
    enrolment_page,
    ask_enrolment,
    cancel_enrolment,
    staff_requests,
    staff_decide,
    offer_page,
    save_offer,
]
