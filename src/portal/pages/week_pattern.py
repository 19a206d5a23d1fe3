"""Semaine type: save a child's usual week and apply it over a period into the basket.

Reached from Réservations. Applying works like "Importer": the days that pass every rule
land in the draft basket, the page reports the others, then the parent goes to the recap.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal import clock
from portal.domain.booking.basket import BasketFull
from portal.domain.booking.scope import BookingError, BookingScope, load_scope
from portal.domain.errors import NotFound
from portal.domain.french_dates import WEEKDAYS, short_date
from portal.domain.week_pattern import rules
from portal.domain.week_pattern import service as patterns
from portal.domain.week_pattern.rules import PatternError
from portal.web.basket import load_basket, save_basket
from portal.web.context import Parent, ParentContext
from portal.web.forms import MultiForm, int_or_none
from portal.web.render import flash, page, see_other

URL = "/reservations/semaine-type"
SHOWN_WEEKDAYS = range(6)  # Monday to Saturday: no activity of a town hall runs on Sunday


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value or "").strip()[:10])
    except ValueError:
        return None


async def pattern_context(
    parent: ParentContext,
    personne: Any = None,
    modifier: Any = None,
    scope: BookingScope | None = None,
) -> dict[str, Any]:
    scope = scope or await load_scope(parent.family_id)
    if not scope.people:
        raise NotFoundException("Aucun enfant n'est rattaché à cette famille.")
    saved = await patterns.patterns_of(scope)
    editing = None
    if int_or_none(modifier) is not None:
        editing = next((p for p in saved if p.id == int_or_none(modifier)), None)
        if editing is None:
            raise NotFoundException("Cette semaine type n'existe pas ou n'est pas à vous.")
    person_id = editing.person_id if editing else int_or_none(personne)
    if person_id not in {p.id for p in scope.people}:
        if personne not in (None, ""):
            raise NotFoundException("Cet enfant n'appartient pas à votre famille.")
        person_id = scope.people[0].id
    assert person_id is not None
    today = clock.local_today(str(scope.tz))
    # A sensible default period: from next Monday, four weeks.
    start = today + timedelta(days=7 - today.weekday())
    return {
        "people": scope.people,
        "person": scope.person(person_id),
        "activities": scope.activities_of(person_id),
        "weekdays": [(d, WEEKDAYS[d]) for d in SHOWN_WEEKDAYS],
        "slot_field": rules.slot_field,
        "saved": saved,
        "editing": editing,
        "checked": editing.pattern.slots if editing else {},
        "default_start": start,
        "default_end": start + timedelta(days=27),
        "errors": [],
        "report": None,
        "form": {},
        "short_date": short_date,
    }


def _render(
    request: Request[Any, Any, Any], parent: ParentContext, context: dict[str, Any], status: int
) -> Template:
    return page(
        request, "pages/week_pattern/index.html", parent, status_code=status,
        page_title="Semaine type", nav_active="reservations", **context,
    )  # fmt: skip


@get(URL)
async def pattern_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    personne: FromQuery[str | None] = None,
    modifier: FromQuery[str | None] = None,
) -> Template:
    context = await pattern_context(parent, personne, modifier)
    return _render(request, parent, context, 200)


@post(URL)
async def pattern_save(
    request: Request[Any, Any, Any], parent: Parent, data: MultiForm
) -> Template | Redirect:
    scope = await load_scope(parent.family_id)
    pattern_id = int_or_none(data.get("modifier"))
    context = await pattern_context(parent, data.get("personne"), pattern_id, scope)
    person = context["person"]
    pattern = rules.pattern_from_form(
        (k for k, v in data.items() if v), [a.id for a in context["activities"]]
    )
    try:
        await patterns.save_pattern(
            scope, person.id, str(data.get("nom") or ""), pattern, pattern_id
        )
    except PatternError as exc:
        context["errors"] = [str(exc)]
        context["form"] = data
        context["checked"] = pattern.slots
        return _render(request, parent, context, 400)
    flash(request, f"Semaine type de {person.first_name} enregistrée.")
    return see_other(f"{URL}#semaines-enregistrees")


@post(URL + "/{pattern_id:int}/supprimer")
async def pattern_delete(
    request: Request[Any, Any, Any], parent: Parent, pattern_id: FromPath[int]
) -> Redirect:
    scope = await load_scope(parent.family_id)
    try:
        await patterns.delete_pattern(scope, pattern_id)
    except NotFound:
        raise NotFoundException("Cette semaine type n'existe pas ou n'est pas à vous.") from None
    flash(request, "Semaine type supprimée.", "info")
    return see_other(URL)


@post(URL + "/{pattern_id:int}/appliquer")
async def pattern_apply(
    request: Request[Any, Any, Any], parent: Parent, pattern_id: FromPath[int], data: MultiForm
) -> Template:
    scope = await load_scope(parent.family_id)
    try:
        saved = await patterns.pattern_of(scope, pattern_id)
    except NotFound:
        raise NotFoundException("Cette semaine type n'existe pas ou n'est pas à vous.") from None
    context = await pattern_context(parent, saved.person_id, None, scope)
    context["form"] = {**data, "applied": pattern_id}
    start, end = _date(data.get("debut")), _date(data.get("fin"))
    if start is None or end is None:
        context["errors"] = ["Indiquez la période (dates de début et de fin)."]
        return _render(request, parent, context, 400)
    basket = load_basket(request, parent.family_id)
    try:
        report = await patterns.apply_pattern(
            scope, basket, saved.person_id, saved.pattern, start, end
        )
    except (PatternError, BookingError, BasketFull) as exc:
        context["errors"] = [str(exc)]
        return _render(request, parent, context, 400)
    save_basket(request, parent.family_id, basket)
    context["report"] = report
    context["applied"] = saved
    context["basket_count"] = len(basket)
    return _render(request, parent, context, 200)


ROUTES = [pattern_page, pattern_save, pattern_delete, pattern_apply]
