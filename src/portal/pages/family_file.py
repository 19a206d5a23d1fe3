"""Parent "Mon dossier": the family, the household's adults, each child's file, documents.

Every id in a URL is looked up within the parent's current family: another family's
child, adult or document is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from portal.domain.family_file import privacy, rules
from portal.domain.family_file import service as family_file
from portal.domain.family_file.rules import FileError
from portal.settings import Settings
from portal.web.context import Parent
from portal.web.forms import MultiForm, int_or_none
from portal.web.render import flash, page, see_other

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
# The form's own fields come on top of the file; beyond this Litestar answers 413.
UPLOAD_BODY_LIMIT = rules.MAX_DOCUMENT_BYTES * 2 + 64 * 1024


def not_found(what: str = "Cette page") -> NotFoundException:
    return NotFoundException(f"{what} n'existe pas ou n'appartient pas à votre famille.")


async def _file_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    *,
    status_code: int = 200,
    errors: dict[str, list[str]] | None = None,
    **extra: Any,
) -> Template:
    view = await family_file.file_view(parent.family_id)
    return page(
        request,
        "pages/family_file/index.html",
        parent,
        status_code=status_code,
        page_title="Mon dossier",
        nav_active="dossier",
        view=view,
        errors=errors or {},
        diets=rules.DIETS,
        links=rules.LINKS,
        max_label=rules.MAX_DOCUMENT_LABEL,
        **extra,
    )


@get("/dossier")
async def file_page(request: Request[Any, Any, Any], parent: Parent) -> Template:
    return await _file_page(request, parent)


@post("/dossier/famille")
async def save_contact(
    request: Request[Any, Any, Any], parent: Parent, data: MultiForm
) -> Template | Redirect:
    errors = await family_file.update_contact(parent.family_id, data)
    if errors:
        return await _file_page(request, parent, status_code=400, errors={"famille": errors})
    flash(request, "Les coordonnées de la famille ont été enregistrées.")
    return see_other("/dossier#famille")


@post("/dossier/adultes")
async def add_adult(
    request: Request[Any, Any, Any], parent: Parent, data: MultiForm
) -> Template | Redirect:
    errors = await family_file.save_adult(parent.family_id, None, data)
    if errors:
        return await _file_page(request, parent, status_code=400, errors={"adultes": errors})
    flash(request, "L'adulte a été ajouté au foyer.")
    return see_other("/dossier#adultes")


@post("/dossier/adultes/{adult_id:int}")
async def edit_adult(
    request: Request[Any, Any, Any], parent: Parent, adult_id: FromPath[int], data: MultiForm
) -> Template | Redirect:
    try:
        if str(data.get("action", "")) == "supprimer":
            await family_file.delete_adult(parent.family_id, adult_id)
            flash(request, "L'adulte a été retiré du foyer.")
            return see_other("/dossier#adultes")
        errors = await family_file.save_adult(parent.family_id, adult_id, data)
    except family_file.NotFound:
        raise not_found("Cet adulte") from None
    if errors:
        return await _file_page(request, parent, status_code=400, errors={"adultes": errors})
    flash(request, "L'adulte a été modifié.")
    return see_other("/dossier#adultes")


async def _child_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    person_id: int,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
) -> Template:
    view = await family_file.file_view(parent.family_id)
    try:
        child = view.child(person_id)
    except family_file.NotFound:
        raise not_found("Cet enfant") from None
    return page(
        request,
        "pages/family_file/child.html",
        parent,
        status_code=status_code,
        page_title=f"Dossier de {child.first_name}",
        nav_active="dossier",
        child=child,
        errors=errors or [],
        diets=rules.DIETS,
        links=rules.LINKS,
    )


@get("/dossier/enfants/{person_id:int}")
async def child_page(
    request: Request[Any, Any, Any], parent: Parent, person_id: FromPath[int]
) -> Template:
    return await _child_page(request, parent, person_id)


@post("/dossier/enfants/{person_id:int}")
async def save_child(
    request: Request[Any, Any, Any], parent: Parent, person_id: FromPath[int], data: MultiForm
) -> Template | Redirect:
    try:
        outcome = await family_file.update_child(
            parent.family_id, person_id, parent.account_id, data
        )
    except family_file.NotFound:
        raise not_found("Cet enfant") from None
    if outcome.errors:
        return await _child_page(request, parent, person_id, status_code=400, errors=outcome.errors)
    flash(
        request,
        "Modifications enregistrées. Les changements de santé et d'adultes autorisés sont "
        "en attente de validation par nos services."
        if outcome.pending
        else "Modifications enregistrées.",
    )
    return see_other(f"/dossier#enfant-{person_id}")


@post("/dossier/documents", request_max_body_size=UPLOAD_BODY_LIMIT)
async def upload_document(
    request: Request[Any, Any, Any], parent: Parent, data: Multipart
) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    upload = next(
        (
            f
            for f in (data.get("fichier"), data.get("photo"))
            if isinstance(f, UploadFile) and f.filename
        ),
        None,
    )
    slot = str(data.get("type") or "")
    type_id, _, person = slot.partition(":")
    try:
        if upload is None:
            raise FileError("Choisissez un fichier ou prenez une photo du document.")
        if int_or_none(type_id) is None:
            raise FileError("Choisissez le type de document à envoyer.")
        content = await upload.read(rules.MAX_DOCUMENT_BYTES + 1)
        uploaded = await family_file.upload_document(
            settings.documents_dir,
            parent.family_id,
            parent.account_id,
            int(type_id),
            int_or_none(person),
            upload.filename,
            content,
        )
    except FileError as exc:
        return await _file_page(request, parent, status_code=400, errors={"documents": [str(exc)]})
    except family_file.NotFound:
        raise not_found("Cet enfant") from None
    flash(request, f"« {uploaded.type_name} » a été envoyé : il est en cours de vérification.")
    return see_other("/dossier#documents")


class Served(Protocol):
    """A stored upload as served back: a family document, an absence certificate."""

    @property
    def filename(self) -> str: ...

    @property
    def content_type(self) -> str: ...


def document_response(doc: Served, content: bytes) -> Response[bytes]:
    return Response(
        content=content,
        media_type=doc.content_type,
        headers={
            "content-disposition": f"inline; filename*=UTF-8''{quote(doc.filename)}",
            "cache-control": "private, no-store",
            # Checked as PDF/JPEG/PNG on upload and served with nosniff: never run as a page.
            "content-security-policy": "default-src 'none'; img-src 'self'; "
            "object-src 'self'; frame-ancestors 'none'",
        },
    )


@get("/dossier/documents/{document_id:int}")
async def view_document(
    request: Request[Any, Any, Any], parent: Parent, document_id: FromPath[int]
) -> Response[bytes]:
    import anyio

    settings: Settings = request.app.state.settings
    try:
        doc = await family_file.family_document(
            settings.documents_dir, parent.family_id, document_id
        )
    except family_file.NotFound:
        raise not_found("Ce document") from None
    content = await anyio.Path(doc.path).read_bytes()
    return document_response(doc, content)


@get("/dossier/export")
async def export_my_data(request: Request[Any, Any, Any], parent: Parent) -> Response[bytes]:
    """ "Exporter mes données": the whole file, bookings, account and documents (ZIP)."""
    settings: Settings = request.app.state.settings
    export = await privacy.family_export(parent.family_id, settings.documents_dir)
    return Response(
        content=export.content,
        media_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="{export.filename}"',
            "cache-control": "private, no-store",
        },
    )


@post("/dossier/confirmer")
async def confirm_campaign(request: Request[Any, Any, Any], parent: Parent) -> Redirect:
    if await family_file.confirm_campaign(parent.family_id):
        flash(request, "Merci : votre dossier est confirmé pour cette année.")
    else:
        flash(request, "Aucune mise à jour du dossier n'est demandée en ce moment.", "info")
    return see_other("/dossier")


ROUTES = [
    file_page,
    save_contact,
    add_adult,
    edit_adult,
    child_page,
    save_child,
    upload_document,
    view_document,
    export_my_data,
    confirm_campaign,
]
