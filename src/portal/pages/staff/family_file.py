"""Back office: families' files (every field, documents, decisions, history), the work
lists with CSV export, the search box of every page, the printable child sheet and the
kitchen/leaders list of allergies and PAI. Reads of health data are audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain.exports import tabular
from portal.domain.exports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from portal.domain.exports.xlsx import xlsx_in_thread
from portal.domain.family_file.rules import DIETS, LINKS, FileError, parse_date
from portal.domain.file_review import accounts, health_access
from portal.domain.file_review import checks as service
from portal.domain.numbers import parse_count
from portal.domain.staff.roles import ANY_STAFF, OPERATIONS, OPERATIONS_READ
from portal.domain.staff.service import NotFound as StaffNotFound
from portal.pages.family_file import document_response
from portal.settings import Settings
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, parse_day, render
from .common import values as form_values

LISTS = {
    "incomplets": "Dossiers incomplets",
    "documents": "Documents à vérifier",
    "expirants": "Documents expirant ce mois-ci",
    "modifications": "Modifications en attente",
}


def _text(data: dict[str, Any], name: str) -> str:
    found = form_values(data, name)
    return found[0] if found else ""


async def _require_health(ctx: StaffPage) -> None:
    """The health pages and actions: 403 for a member without health access."""
    if not await health_access.has_health_access(ctx.actor, ctx.sid):
        raise PermissionDeniedException(health_access.DENIED)


@get("/gestion/s/{sid:int}/dossiers", opt=allow(OPERATIONS_READ))
async def work_lists_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    liste: FromQuery[str] = "incomplets", q: FromQuery[str] = "", format: FromQuery[str] = "",
) -> Template | Response[bytes]:  # fmt: skip
    current = liste if liste in LISTS else "incomplets"
    health = await health_access.has_health_access(ctx.actor, ctx.sid)
    lists = await service.work_lists(ctx.sid, ctx.today, q[:60], health=health)
    if current == "modifications":
        if not health:
            raise PermissionDeniedException(health_access.DENIED)
        export = format if format in ("csv", "xlsx") else ""
        await service.record_changes_view(ctx.actor, ctx.sid, lists.changes, export=export)
    if format in ("csv", "xlsx"):
        return await _export(current, lists, format)
    return render(
        request, ctx, "pages/staff_file/lists.html", title="Dossiers", nav="dossiers",
        lists=lists, current=current, names=LISTS, query=q[:60], health=health,
    )  # fmt: skip


async def _export(current: str, lists: service.WorkLists, fmt: str) -> Response[bytes]:
    table: tabular.Table
    if current == "incomplets":
        table = tabular.Table(
            ("Famille", "Manque"),
            [(r.family_name, " ; ".join(r.missing)) for r in lists.incomplete],
        )
    elif current == "modifications":
        table = tabular.Table(
            ("Famille", "Enfant", "Demandée le", "Modification"),
            [
                (c.family_name, c.person_name, c.created_at.date(),
                 " ; ".join(f"{label} : {a} → {b}" for label, a, b in c.lines))
                for c in lists.changes
            ],
        )  # fmt: skip
    else:
        rows = lists.to_check if current == "documents" else lists.expiring
        table = tabular.Table(
            ("Famille", "Enfant", "Document", "Fichier", "Envoyé le", "Valable jusqu'au"),
            [
                (d.family_name, d.person_name, d.type_name, d.filename, d.uploaded_at.date(),
                 d.valid_until)
                for d in rows
            ],
        )  # fmt: skip
    if fmt == "xlsx":
        return Response(
            content=await xlsx_in_thread(table, LISTS[current]),
            media_type=XLSX_MEDIA_TYPE,
            headers={"content-disposition": f'attachment; filename="dossiers-{current}.xlsx"'},
        )
    return Response(
        content=tabular.csv_text(table).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="dossiers-{current}.csv"'},
    )


async def _file_context(ctx: StaffPage, fid: int) -> dict[str, Any]:
    try:
        view = await service.file_for_staff(ctx.actor, ctx.sid, fid)
    except service.NotFound:
        raise not_found("Cette famille") from None
    health = await health_access.has_health_access(ctx.actor, ctx.sid)
    return {
        "view": view,
        "health": health,
        "documents": await service.family_documents(ctx.sid, fid, health=health),
        "changes": await service.family_changes(ctx.sid, fid) if health else [],
        "history": await service.history(ctx.sid, fid),
        "logins": await service.account_logins(fid),
    }


@get("/gestion/s/{sid:int}/familles/{fid:int}/dossier", opt=allow(OPERATIONS_READ))
async def staff_file_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int]
) -> Template:
    context = await _file_context(ctx, fid)
    return render(
        request, ctx, "pages/staff_file/file.html", title=f"Dossier {context['view'].family_name}",
        nav="dossiers", errors=[], **context,
    )  # fmt: skip


@get("/gestion/s/{sid:int}/documents/{doc_id:int}", opt=allow(OPERATIONS_READ))
async def staff_document(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], doc_id: FromPath[int]
) -> Response[bytes]:
    settings: Settings = request.app.state.settings
    try:
        doc = await service.document_for_staff(ctx.actor, ctx.sid, settings.documents_dir, doc_id)
    except service.NotFound:
        raise not_found("Ce document") from None
    except health_access.HealthDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    return document_response(doc, await anyio.Path(doc.path).read_bytes())


def _back(request: Request[Any, Any, Any], ctx: StaffPage, family_id: int) -> str:
    back = str(request.query_params.get("retour") or "")
    if back.startswith(f"{ctx.url}/") and "//" not in back[1:]:
        return back
    return f"{ctx.url}/familles/{family_id}/dossier"


async def _error_page(
    request: Request[Any, Any, Any], ctx: StaffPage, family_id: int, message: str
) -> Template:
    context = await _file_context(ctx, family_id)
    return render(
        request, ctx, "pages/staff_file/file.html", title=f"Dossier {context['view'].family_name}",
        nav="dossiers", status_code=400, errors=[message], **context,
    )  # fmt: skip


async def _decide(
    request: Request[Any, Any, Any],
    ctx: StaffPage,
    data: MultiForm,
    decide: Callable[[bool], Awaitable[service.Decision]],
    *,
    what: tuple[str, str],
    done: tuple[str, str],
    errors: Sequence[str] = (),
) -> Template | Redirect:
    """Validate or refuse (``what``: "le document", "Ce document"); a 404 when it is not
    the structure's, the family's file with the error when the decision cannot be taken."""
    decision = _text(data, "decision")
    family_id = parse_count(_text(data, "famille")) or 0
    try:
        if decision not in ("valider", "refuser"):
            raise FileError(f"Choisissez de valider ou de refuser {what[0]}.")
        if errors:
            raise FileError(errors[0])
        outcome = await decide(decision == "valider")
    except service.NotFound:
        raise not_found(what[1]) from None
    except health_access.HealthDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except FileError as exc:
        if not family_id:
            raise not_found(what[1]) from None
        return await _error_page(request, ctx, family_id, str(exc))
    flash(request, done[0] if decision == "valider" else done[1])
    return see_other(_back(request, ctx, outcome.family_id))


@post("/gestion/s/{sid:int}/documents/{doc_id:int}/decision", opt=allow(OPERATIONS))
async def decide_document(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], doc_id: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    settings: Settings = request.app.state.settings
    errors: list[str] = []
    valid_until = parse_date(_text(data, "valable_jusqu"), "Valable jusqu'au", errors)
    return await _decide(
        request, ctx, data,
        lambda accept: service.decide_document(
            ctx.actor, ctx.sid, doc_id, accept=accept, reason=_text(data, "motif"),
            valid_until=valid_until, base_url=settings.base_url,
        ),
        what=("le document", "Ce document"), done=("Document validé.", "Document refusé."),
        errors=errors,
    )  # fmt: skip


@post("/gestion/s/{sid:int}/modifications/{cid:int}/decision", opt=allow(OPERATIONS))
async def decide_change(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], cid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    await _require_health(ctx)
    settings: Settings = request.app.state.settings
    return await _decide(
        request, ctx, data,
        lambda accept: service.decide_change(
            ctx.actor, ctx.sid, cid, accept=accept, reason=_text(data, "motif"),
            base_url=settings.base_url,
        ),
        what=("la modification", "Cette modification"),
        done=("Modification validée.", "Modification refusée."),
    )  # fmt: skip


@get("/gestion/s/{sid:int}/recherche", opt=allow(ANY_STAFF))
async def search_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], q: FromQuery[str] = ""
) -> Template:
    query = " ".join(q.split())[:60]
    hits = await service.search(ctx.sid, query)
    return render(
        request, ctx, "pages/staff_file/search.html", title="Recherche", nav="familles",
        hits=hits, query=query,
    )  # fmt: skip


@get("/gestion/s/{sid:int}/familles/{fid:int}/enfants/{pid:int}/fiche", opt=allow(OPERATIONS_READ))
async def child_sheet(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    pid: FromPath[int],
) -> Template:  # fmt: skip
    await _require_health(ctx)
    try:
        view = await service.file_for_staff(ctx.actor, ctx.sid, fid)
        child = view.child(pid)
    except service.NotFound:
        raise not_found("Cet enfant") from None
    return render(
        request, ctx, "pages/staff_file/sheet.html", title=f"Fiche de {child.first_name}",
        nav="dossiers", view=view, child=child,
    )  # fmt: skip


@get("/gestion/s/{sid:int}/sante", opt=allow(OPERATIONS_READ))
async def health_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    activite: FromQuery[str] = "", jour: FromQuery[str] = "",
) -> Template:  # fmt: skip
    await _require_health(ctx)
    activities = await service.activities(ctx.sid)
    asked = parse_count(activite)
    activity_id = asked if asked is not None else (activities[0][0] if activities else 0)
    day = parse_day(jour) or ctx.today
    name, rows = "", list[service.HealthRow]()
    if activity_id:
        try:
            name, rows = await service.health_list(ctx.actor, ctx.sid, activity_id, day)
        except service.NotFound:
            raise not_found("Cette activité") from None
    return render(
        request, ctx, "pages/staff_file/health.html", title="Allergies, PAI et handicap",
        nav="dossiers", activities=activities, activity_id=activity_id, activity_name=name,
        day=day, rows=rows,
    )  # fmt: skip


@post(
    "/gestion/s/{sid:int}/familles/{fid:int}/adultes/{adult_id:int}/identifiant",
    opt=allow(OPERATIONS),
)
async def add_login(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    adult_id: FromPath[int],
) -> Template:  # fmt: skip
    try:
        letter = await accounts.add_login(ctx.actor, ctx.sid, fid, adult_id)
    except StaffNotFound:
        raise not_found("Cet adulte") from None
    except FileError as exc:
        return await _error_page(request, ctx, fid, str(exc))
    return render(
        request, ctx, "pages/staff/letters.html", title="Identifiant créé", nav="dossiers",
        letters=[letter], people=0, imported=False, portal_url=request.app.state.settings.base_url,
    )  # fmt: skip


async def _edit_page(
    request: Request[Any, Any, Any], ctx: StaffPage, fid: int, pid: int, *,
    status_code: int = 200, errors: list[str] | None = None,
) -> Template:  # fmt: skip
    try:
        view = await service.file_for_staff(ctx.actor, ctx.sid, fid)
        child = view.child(pid)
    except service.NotFound:
        raise not_found("Cet enfant") from None
    return render(
        request, ctx, "pages/staff_file/edit_child.html", title=f"Modifier : {child.first_name}",
        nav="dossiers", status_code=status_code, view=view, child=child, errors=errors or [],
        diets=DIETS, links=LINKS,
    )  # fmt: skip


@get(
    "/gestion/s/{sid:int}/familles/{fid:int}/enfants/{pid:int}/modifier", opt=allow(OPERATIONS_READ)
)
async def edit_child_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    pid: FromPath[int],
) -> Template:  # fmt: skip
    await _require_health(ctx)
    return await _edit_page(request, ctx, fid, pid)


@post("/gestion/s/{sid:int}/familles/{fid:int}/enfants/{pid:int}/modifier", opt=allow(OPERATIONS))
async def edit_child(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    pid: FromPath[int], data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    await _require_health(ctx)
    try:
        errors = await service.staff_update_child(ctx.actor, ctx.sid, fid, pid, data)
    except service.NotFound:
        raise not_found("Cet enfant") from None
    if errors:
        return await _edit_page(request, ctx, fid, pid, status_code=400, errors=errors)
    flash(request, "Dossier de l'enfant enregistré.")
    return see_other(f"{ctx.url}/familles/{fid}/dossier#enfant-{pid}")


@post("/gestion/s/{sid:int}/familles/{fid:int}/coordonnees", opt=allow(OPERATIONS))
async def edit_contact(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    data: MultiForm,
) -> Template | Redirect:  # fmt: skip
    try:
        errors = await service.staff_update_contact(ctx.actor, ctx.sid, fid, data)
    except service.NotFound:
        raise not_found("Cette famille") from None
    if errors:
        return await _error_page(request, ctx, fid, " ".join(errors))
    flash(request, "Coordonnées de la famille enregistrées.")
    return see_other(f"{ctx.url}/familles/{fid}/dossier")


ROUTES = [
    edit_child_page,
    edit_child,
    edit_contact,
    add_login,
    work_lists_page,
    staff_file_page,
    staff_document,
    decide_document,
    decide_change,
    search_page,
    child_sheet,
    health_page,
]
