"""The régie in the back office: the letterhead of the documents, the tax category of each
activity, and every family's tax certificate in one download."""

from __future__ import annotations

import io
import zipfile
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.domain.numbers import parse_count
from portal.domain.papers import pdf
from portal.domain.papers import rules as paper_rules
from portal.domain.papers import service as papers
from portal.domain.staff.roles import MONEY, MONEY_READ
from portal.domain.statements import service as statements
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, render

UploadForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def _year(raw: str | None, ctx: StaffPage) -> int:
    latest = paper_rules.tax_year_available(ctx.today)
    text = (raw or "").strip()
    year = parse_count(text) if len(text) == 4 else None
    return year if year is not None and 2000 <= year <= latest else latest


async def regie_context(ctx: StaffPage) -> dict[str, Any]:
    head = await papers.letterhead(ctx.sid)
    latest = paper_rules.tax_year_available(ctx.today)
    return {
        "head": head,
        "activities": await papers.activity_categories(ctx.sid),
        "categories": list(paper_rules.Category),
        "tax_years": list(range(latest, latest - 4, -1)),
        "statement_mailing": await statements.mail_setting(ctx.sid),
        "errors": [],
    }


def _page(
    request: Request[Any, Any, Any], ctx: StaffPage, context: dict[str, Any], status: int = 200
) -> Template:
    return render(
        request,
        ctx,
        "pages/regie/index.html",
        title="Régie",
        nav="regie",
        status_code=status,
        **context,
    )


@get("/gestion/s/{sid:int}/regie", opt=allow(MONEY_READ))
async def regie_page(request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]) -> Template:
    return _page(request, ctx, await regie_context(ctx))


@post("/gestion/s/{sid:int}/regie/en-tete", opt=allow(MONEY))
async def save_letterhead(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: UploadForm
) -> Template | Redirect:
    address = str(data.get("adresse") or "")
    signatory = str(data.get("signataire") or "")
    logo: str | None = None
    try:
        upload = data.get("logo")
        if str(data.get("retirer_logo") or "") == "1":
            logo = ""
        elif isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read(papers.MAX_LOGO_BYTES + 1)
            if content:
                logo = papers.logo_data_uri(content, upload.content_type or "")
        await papers.save_profile(ctx.actor, ctx.sid, address, signatory, logo)
    except papers.ProfileError as exc:
        context = await regie_context(ctx)
        context["errors"] = [str(exc)]
        return _page(request, ctx, context, 400)
    flash(request, "En-tête des documents enregistré.")
    return see_other(f"{ctx.url}/regie")


@post("/gestion/s/{sid:int}/regie/categories", opt=allow(MONEY))
async def save_categories(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Template | Redirect:
    wanted: dict[int, paper_rules.Category] = {}
    errors = []
    for activity in await papers.activity_categories(ctx.sid):
        raw = data.get(f"categorie-{activity.activity_id}")
        if raw is None:
            continue
        category = paper_rules.parse_category(str(raw))
        if category is None:
            errors.append(f"Catégorie inconnue pour « {activity.name} ».")
        else:
            wanted[activity.activity_id] = category
    if errors:
        context = await regie_context(ctx)
        context["errors"] = errors
        return _page(request, ctx, context, 400)
    count = await papers.set_categories(ctx.actor, ctx.sid, wanted)
    flash(request, f"Catégories enregistrées pour {count} activité(s).")
    return see_other(f"{ctx.url}/regie")


@get("/gestion/s/{sid:int}/regie/attestations-fiscales", opt=allow(MONEY_READ))
async def all_tax_certificates(
    request: Request[Any, Any, Any],
    ctx: Staff,
    sid: FromPath[int],
    annee: FromQuery[str | None] = None,
) -> Response[bytes] | Template:
    """Every family's tax certificate of the year, one PDF each, in one ZIP file."""
    year = _year(annee, ctx)
    found = await papers.structure_tax_papers(ctx.sid, year)
    if not found:
        context = await regie_context(ctx)
        context["notice"] = f"Aucune famille n'a de frais de garde à attester pour {year}."
        return _page(request, ctx, context)
    documents = await pdf.render_many(
        "tax_certificate.html",
        (
            {
                "title": f"Attestation fiscale {year}",
                "head": p.letterhead,
                "family": p.family,
                "paper": p,
            }
            for p in found
        ),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for paper, document in zip(found, documents, strict=True):
            name = f"attestation-fiscale-{year}-{paper.family.family_id}-"
            archive.writestr(name + paper_rules.file_slug(paper.family.name) + ".pdf", document)
    return Response(
        content=buffer.getvalue(),
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="attestations-fiscales-{year}.zip"',
            "cache-control": "private, no-store",
        },
    )


ROUTES = [regie_page, save_letterhead, save_categories, all_tax_certificates]
