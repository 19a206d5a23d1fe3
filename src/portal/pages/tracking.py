"""Suivi des réservations: the family's requests with their state, filters and totals."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from portal import clock
from portal.domain.booking import tracking
from portal.domain.booking.scope import load_scope
from portal.domain.french_dates import short_date
from portal.web.context import Parent
from portal.web.forms import int_or_none
from portal.web.render import page

TYPES = [
    ("en-attente", "En attente de réponse", ("pending",)),
    ("liste-attente", "En liste d'attente", ("waitlisted",)),
    ("refusees", "Refusées", ("refused",)),
    ("acceptees", "Acceptées", ("accepted",)),
]
TRANSMISSION = [("transmise", "Transmises"), ("non-transmise", "Non transmises")]


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@get("/suivi")
async def tracking_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    personne: FromQuery[str | None] = None,
    activite: FromQuery[str | None] = None,
    du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None,
    type: FromQuery[list[str] | None] = None,
    transmission: FromQuery[list[str] | None] = None,
) -> Template:
    scope = await load_scope(parent.family_id)
    person_id = int_or_none(personne)
    if person_id not in {p.id for p in scope.people}:
        person_id = None
    activity_id = int_or_none(activite)
    if activity_id not in scope.activities:
        activity_id = None
    chosen_types = [t for t in (type or []) if t in {key for key, _, _ in TYPES}] or [
        key for key, _, _ in TYPES
    ]
    statuses = tuple(s for key, _, group in TYPES if key in chosen_types for s in group)
    chosen_transmission = [t for t in (transmission or []) if t in dict(TRANSMISSION)] or [
        key for key, _ in TRANSMISSION
    ]
    transmitted = None if len(chosen_transmission) == 2 else chosen_transmission[0] == "transmise"
    # By default from the first of this month: the whole past would bury what is coming.
    start = clock.local_today(str(scope.tz)).replace(day=1) if du is None else _date(du)
    end = _date(au)
    filters = tracking.TrackingFilters(
        person_id=person_id,
        activity_id=activity_id,
        start=start,
        end=end,
        statuses=statuses,
        transmitted=transmitted,
    )
    result = await tracking.tracking(scope, filters)
    return page(
        request,
        "pages/booking/tracking.html",
        parent,
        page_title="Suivi des réservations",
        nav_active="suivi",
        result=result,
        people=scope.people,
        activities=list(scope.activities.values()),
        types=TYPES,
        transmission_choices=TRANSMISSION,
        chosen_types=chosen_types,
        chosen_transmission=chosen_transmission,
        person_id=person_id,
        activity_id=activity_id,
        start=start,
        end=end,
        short_date=short_date,
    )


ROUTES = [tracking_page]
