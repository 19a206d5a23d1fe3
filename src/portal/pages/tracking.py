"""Suivi des réservations: the family's requests with their state, filters and totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromQuery
from litestar.response import Template

from portal import clock
from portal.domain.booking import opening, tracking, tracking_summary
from portal.domain.booking.scope import BookingScope, load_scope
from portal.domain.exports.tabular import Amount, Cell, Table, csv_text
from portal.domain.exports.xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from portal.domain.exports.xlsx import xlsx_in_thread
from portal.domain.french_dates import short_date
from portal.domain.reservation_status import ReservationStatus
from portal.web.context import Parent, ParentContext
from portal.web.forms import int_or_none
from portal.web.render import page

TYPES = [
    ("en-attente", "En attente de réponse", (ReservationStatus.PENDING,)),
    ("liste-attente", "En liste d'attente", (ReservationStatus.WAITLISTED,)),
    ("refusees", "Refusées", (ReservationStatus.REFUSED,)),
    ("acceptees", "Acceptées", (ReservationStatus.ACCEPTED,)),
]
TRANSMISSION = [("transmise", "Transmises"), ("non-transmise", "Non transmises")]


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class TrackingQuery:
    scope: BookingScope
    filters: tracking.TrackingFilters
    chosen_types: list[str]
    chosen_transmission: list[str]


async def _tracking_query(
    parent: ParentContext,
    personne: str | None,
    activite: str | None,
    du: str | None,
    au: str | None,
    type: list[str] | None,
    transmission: list[str] | None,
) -> TrackingQuery:
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
    return TrackingQuery(scope, filters, chosen_types, chosen_transmission)


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
    query = await _tracking_query(parent, personne, activite, du, au, type, transmission)
    scope, filters = query.scope, query.filters
    chosen_types, chosen_transmission = query.chosen_types, query.chosen_transmission
    person_id, activity_id, start, end = (
        filters.person_id,
        filters.activity_id,
        filters.start,
        filters.end,
    )
    result = await tracking.tracking(scope, filters)
    people = {p.id: p.first_name for p in scope.people}
    chosen = [label for key, label, _ in TYPES if key in chosen_types]
    summary: dict[str, Any] = tracking_summary.filters_summary(
        start=start,
        end=end,
        person=people.get(person_id) if person_id else None,
        activity=scope.activities[activity_id].name if activity_id else None,
        types=None if len(chosen) == len(TYPES) else chosen,
        transmission=None
        if filters.transmitted is None
        else dict(TRANSMISSION)["transmise" if filters.transmitted else "non-transmise"],
    )
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
        export_query=request.url.query,
        # Requests waiting for an allocation answer nobody yet and are never transmitted:
        # shown with « En attente de réponse », not when only transmitted ones are asked.
        waiting_requests=await opening.family_waiting_requests(
            scope.family_id,
            scope.tz,
            person_id=person_id,
            activity_id=activity_id,
            start=start,
            end=end,
        )
        if "en-attente" in chosen_types and filters.transmitted is not True
        else [],
        **summary,
    )


TRACKING_HEADER = ("Date", "Activité", "Personne", "Arrivée", "Départ", "Coût (€)", "État")


def tracking_table(result: tracking.Tracking) -> Table:
    """The "Suivi" as an export: one row per request, then the two totals."""
    rows: list[Sequence[Cell]] = [
        (
            line.day,
            line.activity,
            line.person,
            line.arrival,
            line.departure,
            None if line.cost_cents is None else Amount(line.cost_cents),
            line.state_label,
        )
        for line in result.lines
    ]
    rows.append(
        (f"Total acceptées ({result.accepted_count})", None, None, None, None,
         Amount(result.accepted_cost_cents), None)
    )  # fmt: skip
    rows.append(
        (f"Total en attente ({result.pending_count})", None, None, None, None,
         Amount(result.pending_cost_cents), None)
    )  # fmt: skip
    return Table(TRACKING_HEADER, rows)


@get(["/suivi/export.csv", "/suivi/export.xlsx"])
async def tracking_export(
    request: Request[Any, Any, Any],
    parent: Parent,
    personne: FromQuery[str | None] = None,
    activite: FromQuery[str | None] = None,
    du: FromQuery[str | None] = None,
    au: FromQuery[str | None] = None,
    type: FromQuery[list[str] | None] = None,
    transmission: FromQuery[list[str] | None] = None,
) -> Response[bytes]:
    """The filtered "Suivi" as CSV or XLSX (same filters as the page)."""
    fmt = request.url.path.rsplit(".", 1)[-1]
    query = await _tracking_query(parent, personne, activite, du, au, type, transmission)
    table = tracking_table(await tracking.tracking(query.scope, query.filters))
    if fmt == "csv":
        return Response(
            content=csv_text(table).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="suivi-reservations.csv"'},
        )
    return Response(
        content=await xlsx_in_thread(table, "Suivi des réservations"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"content-disposition": 'attachment; filename="suivi-reservations.xlsx"'},
    )


ROUTES = [tracking_page, tracking_export]
