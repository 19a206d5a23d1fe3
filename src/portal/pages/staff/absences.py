"""Back office side of "enfant malade": decide a declared absence (justified or not),
see its certificate, and set whether same-morning declarations are allowed.

The waiting absences are listed on the Décisions page (pages/staff/daily.py includes
them); these handlers answer its forms and return to it.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect

from portal.domain.absences import rules
from portal.domain.absences import service as absences
from portal.domain.absences.rules import AbsenceError, AbsencePolicy
from portal.domain.file_review import health_access
from portal.domain.staff.roles import OPERATIONS, OPERATIONS_READ
from portal.pages.family_file import document_response
from portal.settings import Settings
from portal.web.forms import MultiForm
from portal.web.render import flash, see_other
from portal.web.staff import allow

from .common import Staff, StaffPage, not_found


async def waiting_context(ctx: StaffPage) -> dict[str, Any]:
    """What the Décisions page shows of declared absences."""
    health = await health_access.has_health_access(ctx.actor, ctx.sid)
    return {
        "absences": await absences.waiting_absences(ctx.sid, health=health),
        "absence_health": health,
        "absence_policy": await absences.policy_of(ctx.sid),
        "absence_until_choices": absences.until_choices(),
    }


def _back(ctx: StaffPage) -> Redirect:
    return see_other(f"{ctx.url}/decisions#absences")


@post("/gestion/s/{sid:int}/absences/{declaration_id:int}", opt=allow(OPERATIONS))
async def decide_absence(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int],
    declaration_id: FromPath[int], data: MultiForm,
) -> Redirect:  # fmt: skip
    settings: Settings = request.app.state.settings
    choice = str(data.get("decision", ""))
    if choice not in ("justifiee", "non-justifiee"):
        flash(request, "Choisissez si l'absence est justifiée ou non.", "error")
        return _back(ctx)
    try:
        decided = await absences.decide(
            ctx.actor,
            ctx.sid,
            declaration_id,
            justified=choice == "justifiee",
            base_url=settings.base_url,
        )
    except absences.AbsenceNotFound:
        raise not_found("Cette absence") from None
    except AbsenceError as exc:
        flash(request, str(exc), "error")
        return _back(ctx)
    flash(request, decided.message)
    return _back(ctx)


@get("/gestion/s/{sid:int}/absences/{declaration_id:int}/justificatif", opt=allow(OPERATIONS_READ))
async def absence_certificate(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], declaration_id: FromPath[int]
) -> Response[bytes]:
    settings: Settings = request.app.state.settings
    try:
        stored = await absences.structure_certificate(
            ctx.actor, settings.documents_dir, ctx.sid, declaration_id
        )
    except absences.AbsenceNotFound:
        raise not_found("Ce justificatif") from None
    except health_access.HealthDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    return document_response(stored, await anyio.Path(stored.path).read_bytes())


@post("/gestion/s/{sid:int}/absences/reglage", opt=allow(OPERATIONS))
async def absence_settings(
    request: Request[Any, Any, Any], ctx: Staff, sid: FromPath[int], data: MultiForm
) -> Redirect:
    same_morning = data.get("jour_meme") == "oui"
    try:
        until = rules.parse_until(str(data.get("jusqua") or "09:30"))
    except AbsenceError as exc:
        flash(request, str(exc), "error")
        return _back(ctx)
    await absences.save_policy(ctx.actor, ctx.sid, AbsencePolicy(same_morning, until))
    flash(request, "Réglage des absences enregistré.")
    return _back(ctx)


ROUTES = [decide_absence, absence_certificate, absence_settings]
