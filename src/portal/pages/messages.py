"""Messages (parent side): the family's thread with its structure, a reply form with an
optional attachment (a photo or a PDF, the family documents' rules), and the attachments
of the thread."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import anyio
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from portal.domain.family_file import rules as file_rules
from portal.domain.family_file.rules import FileError
from portal.domain.messages import rules
from portal.domain.messages import service as messages
from portal.settings import Settings
from portal.web.context import Parent
from portal.web.render import flash, page, see_other

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
UPLOAD_BODY_LIMIT = file_rules.MAX_DOCUMENT_BYTES * 2 + 64 * 1024


def local_time(tz_name: str) -> Any:
    zone = ZoneInfo(tz_name)
    return lambda instant: instant.astimezone(zone).strftime("%d/%m/%Y à %H:%M")


async def upload_of(data: dict[str, Any]) -> messages.Upload | None:
    """The attached file of a message form, read up to one byte past the limit."""
    for name in ("piece_jointe", "photo"):
        found = data.get(name)
        if isinstance(found, UploadFile) and found.filename:
            content = await found.read(file_rules.MAX_DOCUMENT_BYTES + 1)
            return messages.Upload(found.filename, content)
    return None


def attachment_response(found: messages.StoredAttachment, content: bytes) -> Response[bytes]:
    return Response(
        content=content,
        media_type=found.content_type,
        headers={
            "content-disposition": f"inline; filename*=UTF-8''{quote(found.filename)}",
            "cache-control": "private, no-store",
            # Checked as PDF/JPEG/PNG on upload and served with nosniff: never run as a page.
            "content-security-policy": "default-src 'none'; img-src 'self'; "
            "object-src 'self'; frame-ancestors 'none'",
        },
    )


async def _thread_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    body: str = "",
) -> Template:
    # A refused message re-shows the thread without writing (nothing is marked read).
    thread = await messages.family_thread(parent.family_id, mark_read=status_code < 400)
    return page(
        request,
        "pages/messages/thread.html",
        parent,
        status_code=status_code,
        page_title="Messages",
        nav_active="messages",
        thread=thread,
        structure_name=parent.family.structure_name,
        when=local_time(parent.family.structure_timezone),
        errors=errors or [],
        body=body,
        max_body=rules.MAX_BODY,
        max_file=file_rules.MAX_DOCUMENT_LABEL,
    )


@get("/messages")
async def thread_page(request: Request[Any, Any, Any], parent: Parent) -> Template:
    return await _thread_page(request, parent)


@post("/messages", request_max_body_size=UPLOAD_BODY_LIMIT)
async def send_message(
    request: Request[Any, Any, Any], parent: Parent, data: Multipart
) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    body = str(data.get("texte") or "")[: rules.MAX_BODY * 2]
    try:
        await messages.send_from_family(
            settings.documents_dir,
            parent.family_id,
            parent.account_id,
            parent.account.display_name,
            body,
            await upload_of(data),
        )
    except (rules.MessageError, FileError) as exc:
        return await _thread_page(request, parent, status_code=400, errors=[str(exc)], body=body)
    flash(request, "Votre message a été envoyé.")
    return see_other("/messages#dernier")


@get("/messages/pieces/{attachment_id:int}")
async def attachment(
    request: Request[Any, Any, Any], parent: Parent, attachment_id: FromPath[int]
) -> Response[bytes]:
    settings: Settings = request.app.state.settings
    try:
        found = await messages.family_attachment(
            settings.documents_dir, parent.family_id, attachment_id
        )
    except messages.NotFound:
        raise NotFoundException(
            "Cette pièce jointe n'existe pas ou n'appartient pas à votre famille."
        ) from None
    return attachment_response(found, await anyio.Path(found.path).read_bytes())


ROUTES = [thread_page, send_message, attachment]
