"""Enfant malade: "Signaler une absence" on a booked day, with an optional certificate.

Reached from the home page and from a day of the calendar; the certificate is read with
the family file's limits (photo or PDF, 5 Mo) and served back only to the family.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from portal.domain.absences import service as absences
from portal.domain.absences.rules import AbsenceError
from portal.domain.family_file import rules as file_rules
from portal.domain.french_dates import long_date, short_date
from portal.pages.family_file import UPLOAD_BODY_LIMIT
from portal.settings import Settings
from portal.web.context import Parent, ParentContext
from portal.web.forms import int_or_none
from portal.web.render import flash, page, see_other

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or "")[:10])
    except ValueError:
        return None


async def absences_context(
    parent: ParentContext, jour: Any = None, personne: Any = None, reservation: Any = None
) -> dict[str, Any]:
    only_day, only_person = _day(jour), int_or_none(personne)
    days = await absences.booked_days(parent.family_id, parent.structure_id, day=only_day)
    shown = [
        b
        for b in days
        if (only_day is None or b.day == only_day)
        and (only_person is None or b.person_id == only_person)
    ]
    declarable = [b for b in shown if b.refusal is None]
    chosen = int_or_none(reservation)
    if chosen is None and len(declarable) == 1:
        chosen = declarable[0].reservation_id
    return {
        "declarable": declarable,
        "declared": await absences.declared_days(parent.family_id, parent.structure_id),
        "blocked": [b for b in shown if b.refusal is not None and b.status is None],
        "filtered": only_day is not None or only_person is not None,
        "filter_day": long_date(only_day) if only_day else "",
        "chosen": chosen,
        "policy": await absences.policy_of(parent.structure_id),
        "max_label": file_rules.MAX_DOCUMENT_LABEL,
        "short_date": short_date,
        "errors": [],
        "note": "",
    }


def _render(
    request: Request[Any, Any, Any], parent: ParentContext, context: dict[str, Any], status: int
) -> Template:
    return page(
        request, "pages/absences/index.html", parent, status_code=status,
        page_title="Signaler une absence", nav_active="reservations", **context,
    )  # fmt: skip


@get("/absences")
async def absences_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    jour: FromQuery[str | None] = None,
    personne: FromQuery[str | None] = None,
    reservation: FromQuery[str | None] = None,
) -> Template:
    context = await absences_context(parent, jour, personne, reservation)
    return _render(request, parent, context, 200)


@post("/absences", request_max_body_size=UPLOAD_BODY_LIMIT)
async def declare_absence(
    request: Request[Any, Any, Any], parent: Parent, data: Multipart
) -> Template | Redirect:
    settings: Settings = request.app.state.settings
    reservation_id = int_or_none(data.get("reservation"))
    note = data.get("message")
    note_text = note if isinstance(note, str) else ""
    upload = next(
        (
            f
            for f in (data.get("photo"), data.get("fichier"))
            if isinstance(f, UploadFile) and f.filename
        ),
        None,
    )
    try:
        if reservation_id is None:
            raise AbsenceError("Choisissez le jour et l'activité de l'absence.")
        certificate = None
        if upload is not None:
            content = await upload.read(file_rules.MAX_DOCUMENT_BYTES + 1)
            certificate = absences.Certificate(upload.filename, content)
        declared = await absences.declare(
            settings.documents_dir,
            parent.family_id,
            parent.account_id,
            reservation_id,
            note_text,
            certificate,
        )
    except AbsenceError as exc:
        context = await absences_context(parent, reservation=reservation_id)
        context["errors"] = [str(exc)]
        context["note"] = note_text[:500]
        return _render(request, parent, context, 400)
    except absences.AbsenceNotFound:
        raise NotFoundException("Cette réservation n'existe pas ou n'est pas à vous.") from None
    flash(
        request,
        f"Absence de {declared.person} signalée pour le {long_date(declared.day)} "
        f"({declared.activity}). La structure vous répondra par e-mail.",
    )
    return see_other("/absences?" + urlencode({"jour": declared.day.isoformat()}))


ROUTES = [absences_page, declare_absence]
