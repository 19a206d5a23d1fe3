"""Familles: list, CSV import (all or nothing), credentials letters, file state, accounts.

Initial passwords appear once, in the response to the import or the reset (the page is
`no-store`); they are not kept anywhere, not even in the session.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain import form_fields
from portal.domain.family_file import service as family_file
from portal.domain.paging.rules import Paging, page_number
from portal.domain.staff import families as service
from portal.domain.staff import families_csv
from portal.domain.staff.roles import ANY_STAFF, OPERATIONS
from portal.domain.staff.service import NotFound
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, render

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


async def families_context(
    ctx: StaffPage, q: str | None, page: str | None = None
) -> dict[str, Any]:
    query = (q or "").strip()
    paging = Paging.of(page_number(page), await service.count_families(ctx.sid, query))
    list_url = f"{ctx.url}/familles" + (f"?{urlencode({'q': query})}" if query else "")
    return {
        "families": await service.families(ctx.sid, query, limit=paging.size, offset=paging.offset),
        "paging": paging,
        "list_url": list_url,
        "query": query,
        "columns": families_csv.CSV_COLUMNS,
        "errors": [],
        "import_errors": [],
        "content": "",
    }


@get("/gestion/s/{sid:int}/familles", opt=allow(ANY_STAFF))
async def families_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    q: FromQuery[str | None] = None, page: FromQuery[str | None] = None,
) -> Template:  # fmt: skip
    return render(
        request, ctx, "pages/staff/families.html", title="Familles", nav="familles",
        **await families_context(ctx, q, page),
    )  # fmt: skip


async def _read_import(data: dict[str, Any]) -> tuple[str, list[str]]:
    upload = data.get("fichier")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(raw) > MAX_UPLOAD_BYTES:
            return "", ["Le fichier dépasse 2 Mo : découpez-le en plusieurs imports."]
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return raw.decode(encoding), []
            except UnicodeDecodeError:
                continue
    text = data.get("contenu")
    if isinstance(text, str) and text.strip():
        return text[:MAX_UPLOAD_BYTES], []
    return "", ["Choisissez un fichier CSV ou collez son contenu."]


@post(
    "/gestion/s/{sid:int}/familles/import",
    request_max_body_size=3 * 1024 * 1024,
    opt=allow(OPERATIONS),
)
async def import_families(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: Multipart
) -> Template:
    text, problems = await _read_import(data)
    if not problems:
        outcome = await service.import_families(ctx.actor, ctx.sid, text)
        if outcome.ok:
            return render(
                request, ctx, "pages/staff/letters.html", title="Comptes créés",
                nav="familles", letters=outcome.letters, people=outcome.people,
                imported=True, portal_url=request.app.state.settings.base_url,
            )  # fmt: skip
        problems = [str(e) for e in outcome.errors]
    context = await families_context(ctx, None)
    context["import_errors"] = problems
    context["content"] = text if len(text) < 20_000 else ""
    return render(
        request, ctx, "pages/staff/families.html", title="Familles", nav="familles",
        status_code=400, **context,
    )  # fmt: skip


async def _family(ctx: StaffPage, fid: int) -> service.FamilyDetail:
    try:
        return await service.family_detail(ctx.sid, fid)
    except NotFound:
        raise not_found("Cette famille") from None


@get("/gestion/s/{sid:int}/familles/{fid:int}", opt=allow(ANY_STAFF))
async def family_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int]
) -> Template:
    detail = await _family(ctx, fid)
    file_rules = await family_file.file_rules(ctx.sid)
    return render(
        request, ctx, "pages/staff/family.html", title=detail.family.name, nav="familles",
        detail=detail, file_rules_defined=not file_rules.empty, is_admin=ctx.actor.is_admin,
        shared_account=service.SHARED_ACCOUNT,
    )  # fmt: skip


@post("/gestion/s/{sid:int}/familles/{fid:int}/dossier", opt=allow(OPERATIONS))
async def set_file_complete(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    data: MultiForm,
) -> Redirect:  # fmt: skip
    detail = await _family(ctx, fid)
    complete = form_fields.field_flag(data, "complet")
    await service.set_file_complete(ctx.actor, ctx.sid, fid, complete)
    flash(
        request,
        f"Dossier de {detail.family.name} marqué "
        + ("complet : les réservations sont possibles." if complete else "incomplet."),
    )
    return see_other(f"{ctx.url}/familles/{fid}")


@post(
    "/gestion/s/{sid:int}/familles/{fid:int}/comptes/{acc:int}/reinitialiser", opt=allow(OPERATIONS)
)
async def reset_account(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], fid: FromPath[int],
    acc: FromPath[int],
) -> Template:  # fmt: skip
    await _family(ctx, fid)
    try:
        letter = await service.reset_account(ctx.actor, ctx.sid, fid, acc)
    except NotFound:
        raise not_found("Ce compte") from None
    except service.ResetRefused as exc:
        raise PermissionDeniedException(str(exc)) from None
    return render(
        request, ctx, "pages/staff/letters.html", title="Nouveau mot de passe initial",
        nav="familles", letters=[letter], people=0, imported=False,
        portal_url=request.app.state.settings.base_url,
    )  # fmt: skip


ROUTES = [families_page, import_families, family_page, set_file_complete, reset_account]
