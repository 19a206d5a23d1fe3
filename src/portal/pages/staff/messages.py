"""Messages in the back office: the families' threads (unread first in mind: counts on
each), one thread with a reply form, and a broadcast to every family of an activity, of
a day, or of an activity on a day ("sortie annulée demain")."""

from __future__ import annotations

from datetime import date
from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from portal.domain.family_file import rules as file_rules
from portal.domain.family_file.rules import FileError
from portal.domain.messages import rules
from portal.domain.messages import service as messages
from portal.domain.staff import activities as staff_activities
from portal.domain.staff.roles import OPERATIONS, OPERATIONS_READ
from portal.pages.messages import (
    UPLOAD_BODY_LIMIT,
    Multipart,
    attachment_response,
    local_time,
    upload_of,
)
from portal.settings import Settings
from portal.web.forms import Form, int_or_none
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found, render


def _day(raw: str | None) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise rules.MessageError(
            "Date illisible : choisissez un jour dans le calendrier."
        ) from None


async def _list_page(
    request: Request[Any, Any, Any],
    ctx: StaffPage,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    return render(
        request,
        ctx,
        "pages/staff/messages.html",
        title="Messages",
        nav="messages",
        status_code=status_code,
        threads=await messages.structure_threads(ctx.sid),
        activities=await staff_activities.activities(ctx.sid),
        when=local_time(ctx.structure.timezone),
        errors=errors or [],
        form=form or {},
        max_body=rules.MAX_BODY,
    )


@get("/gestion/s/{sid:int}/messages", opt=allow(OPERATIONS_READ))
async def threads_page(request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int]) -> Template:
    return await _list_page(request, ctx)


@post("/gestion/s/{sid:int}/messages/diffusion", opt=allow(OPERATIONS))
async def broadcast(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: Form
) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    form = {k: str(data.get(k) or "")[: rules.MAX_BODY * 2] for k in ("activite", "jour", "texte")}
    try:
        activity_id = int_or_none(form["activite"])
        audience = rules.Audience(activity_id, _day(form["jour"]))
        sent = await messages.broadcast(
            ctx.sid, ctx.actor.staff_id, audience, form["texte"], base_url=settings.base_url
        )
    except rules.MessageError as exc:
        return await _list_page(request, ctx, status_code=400, errors=[str(exc)], form=form)
    flash(request, f"Message envoyé à {sent.families} famille{'s' if sent.families > 1 else ''}.")
    return see_other(f"/gestion/s/{ctx.sid}/messages")


async def _thread_page(
    request: Request[Any, Any, Any],
    ctx: StaffPage,
    family_id: int,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    body: str = "",
) -> Template:
    # Read by whoever answers: a member who may only read (direction) leaves the family's
    # messages unread, so that the agents' badge still shows them.
    answers = ctx.can(*OPERATIONS)
    try:
        name, thread = await messages.staff_thread(
            ctx.sid, family_id, mark_read=answers and status_code < 400
        )
    except messages.NotFound:
        raise not_found("Cette famille") from None
    return render(
        request,
        ctx,
        "pages/staff/message_thread.html",
        title=f"Messages · {name}",
        nav="messages",
        status_code=status_code,
        family_id=family_id,
        family_name=name,
        thread=thread,
        when=local_time(ctx.structure.timezone),
        errors=errors or [],
        body=body,
        max_body=rules.MAX_BODY,
        max_file=file_rules.MAX_DOCUMENT_LABEL,
    )


@get("/gestion/s/{sid:int}/messages/familles/{family_id:int}", opt=allow(OPERATIONS_READ))
async def thread_page(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], family_id: FromPath[int]
) -> Template:
    return await _thread_page(request, ctx, family_id)


@post(
    "/gestion/s/{sid:int}/messages/familles/{family_id:int}",
    request_max_body_size=UPLOAD_BODY_LIMIT,
    opt=allow(OPERATIONS),
)
async def reply(
    request: Request[Any, Any, Any],
    ctx: Staff,
    sid: FromPath[int],
    family_id: FromPath[int],
    data: Multipart,
) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    body = str(data.get("texte") or "")[: rules.MAX_BODY * 2]
    try:
        await messages.send_from_staff(
            settings.documents_dir,
            ctx.sid,
            family_id,
            ctx.actor.staff_id,
            body,
            await upload_of(data),
            base_url=settings.base_url,
        )
    except messages.NotFound:
        raise not_found("Cette famille") from None
    except (rules.MessageError, FileError) as exc:
        return await _thread_page(
            request, ctx, family_id, status_code=400, errors=[str(exc)], body=body
        )
    flash(request, "Votre réponse a été envoyée à la famille.")
    return see_other(f"/gestion/s/{ctx.sid}/messages/familles/{family_id}#dernier")


@get("/gestion/s/{sid:int}/messages/pieces/{attachment_id:int}", opt=allow(OPERATIONS_READ))
async def attachment(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], attachment_id: FromPath[int]
) -> Response[bytes]:
    settings: Settings = request.app.state.settings
    try:
        found = await messages.structure_attachment(settings.documents_dir, ctx.sid, attachment_id)
    except messages.NotFound:
        raise NotFoundException(
            "Cette pièce jointe n'existe pas ou n'appartient pas à cette structure."
        ) from None
    return attachment_response(found, await anyio.Path(found.path).read_bytes())


ROUTES = [threads_page, broadcast, thread_page, reply, attachment]
