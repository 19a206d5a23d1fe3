"""Réservations: the month calendar, the day list, time entry, recap, result, copy.

Every handler here is a full page (works without JavaScript). One URL per resource: the
calendar, a tap and a day's list answer htmx (web/htmx.py: ``HX-Request``, not boosted)
with their fragment instead, from the same context functions; the staff desk's handlers
(pages/staff/booking.py) do the same with their own desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any
from urllib.parse import parse_qs, urlencode

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal import clock
from portal.db import read_snapshot
from portal.domain.booking import (
    apply,
    day_names,
    drafting,
    quicktools,
    time_costs,
    tracking,
    views,
)
from portal.domain.booking.scope import BookingError, BookingScope
from portal.domain.booking.states import AggregateState, DayState, DraftAction, TapAction
from portal.domain.french_dates import (
    WEEKDAYS,
    long_date,
    month_label,
    parse_month,
    short_date,
)
from portal.domain.numbers import parse_count
from portal.web.basket import load_basket, save_basket
from portal.web.booking_desk import BookingDesk, parent_desk
from portal.web.context import Parent
from portal.web.forms import Form, MultiForm, int_or_none
from portal.web.htmx import fragment, varies, wants_fragment
from portal.web.render import flash, page, see_other

ALL = "tous"
SHORT_WEEKDAYS = ["Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim"]


@dataclass(frozen=True)
class Selection:
    """Which child, activity and month the calendar shows (from the query or the form)."""

    person_id: int
    activity_id: int | None
    year: int
    month: int

    def query(self, **extra: str) -> str:
        values = {
            "personne": str(self.person_id),
            "activite": str(self.activity_id) if self.activity_id else ALL,
            "mois": f"{self.year:04d}-{self.month:02d}",
            **extra,
        }
        return urlencode(values)

    def with_month(self, first: date) -> Selection:
        return Selection(self.person_id, self.activity_id, first.year, first.month)


def selection_from(
    scope: BookingScope, personne: Any, activite: Any, mois: Any, today: date
) -> Selection:
    """Read the selection; unknown ids fall back to the first child and "all activities"."""
    people = [p.id for p in scope.people]
    person_id = int_or_none(personne)
    if person_id not in people:
        if personne not in (None, ""):
            raise NotFoundException("Cet enfant n'appartient pas à votre famille.")
        if not people:
            raise NotFoundException("Aucun enfant n'est rattaché à cette famille.")
        person_id = people[0]
    assert person_id is not None
    activity_id = int_or_none(activite)
    if activity_id is not None and activity_id not in scope.enrolled.get(person_id, []):
        activity_id = None
    year, month = parse_month(str(mois) if mois else None, today)
    return Selection(person_id, activity_id, year, month)


def _glyph(icon: str) -> str:
    return ICON_GLYPHS.get(icon, "•")


# Text glyphs beside each state's words: states are never told by colour alone.
ICON_GLYPHS = {
    "closed": "—",
    "full": "✕",
    "available": "○",
    "waitlist": "≡",
    "booked": "✓",
    "booked-locked": "☑",
    "waitlisted": "◐",
    "waitlisted-locked": "◑",
    # Booked with a waitlisted activity: the booked glyph with the waitlist one, so that
    # no two states of a calendar share a glyph (and a striped pattern, in app.css).
    "booked-waitlist": "✓≡",
    "booked-locked-waitlist": "☑≡",
    "absence": "✚",  # a declared absence ("enfant malade"): the medical cross
    "draft-book": "+",
    "draft-cancel": "−",
}


def legend(activity_selected: bool) -> list[dict[str, str]]:
    states: list[DayState] | list[AggregateState] = (
        list(DayState) if activity_selected else list(AggregateState)
    )
    items = [
        {"icon": s.icon, "glyph": _glyph(s.icon), "short": s.short_label, "label": s.label}
        for s in states
    ]
    for draft in DraftAction:
        items.append(
            {
                "icon": f"draft-{draft.value}",
                "glyph": _glyph(f"draft-{draft.value}"),
                "short": draft.label.capitalize(),
                "label": "Demande pas encore validée : "
                + ("jour à réserver" if draft is DraftAction.BOOK else "jour à annuler"),
            }
        )
    return items


async def calendar_context(
    request: Request[Any, Any, Any],
    desk: BookingDesk,
    personne: Any,
    activite: Any,
    mois: Any,
    scope: BookingScope | None = None,
) -> dict[str, Any]:
    """Everything the calendar region shows; shared by the page and the fragment.

    ``scope`` may come from a tap handled in the same request (a tap changes only the basket).
    """
    scope = scope or await desk.scope()
    now = clock.utcnow()
    today = now.astimezone(scope.tz).date()
    selection = selection_from(scope, personne, activite, mois, today)
    basket = load_basket(request, desk.family_id)
    month = await views.month_view(
        scope,
        selection.person_id,
        selection.activity_id,
        selection.year,
        selection.month,
        basket,
        now,
    )
    save_basket(request, desk.family_id, basket)  # stale drafts were dropped
    person = scope.person(selection.person_id)
    activity = scope.activities.get(selection.activity_id) if selection.activity_id else None
    return {
        "scope": scope,
        "selection": selection,
        "person": person,
        "activity": activity,
        "activities": scope.activities_of(selection.person_id),
        "month": month,
        "month_label": month_label(selection.year, selection.month),
        "previous_query": selection.with_month(month.previous).query(),
        "next_query": selection.with_month(month.next).query(),
        "weekdays": WEEKDAYS,
        "short_weekdays": SHORT_WEEKDAYS,
        "legend": legend(activity is not None),
        "glyphs": ICON_GLYPHS,
        "tools": quicktools.month_tools(
            [(c.day, c.in_month, c.single.view if c.single else None) for c in week]
            for week in month.weeks
        )
        if activity
        else None,
        "day_summary": lambda entries: day_names.day_summary(
            (e.activity.name, e.view) for e in entries
        ),
        "basket_count": len(basket),
        "block_reasons": scope.person_block_reasons(selection.person_id),
        # Blocked (debt, file, rules): the calendar is shown read-only, no tap that fails.
        "read_only": bool(scope.person_block_reasons(selection.person_id))
        and all(
            scope.block_reasons(selection.person_id, a.id)
            for a in ([activity] if activity else scope.activities_of(selection.person_id))
        ),
        "french_date": long_date,
        "today": today,
        **desk.template_context(),
    }


@get("/reservations")
async def booking_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    personne: FromQuery[str | None] = None,
    activite: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None,
) -> Template:
    desk = parent_desk(parent)
    async with read_snapshot():  # one connection for the page's reads
        context = await calendar_context(request, desk, personne, activite, mois)
    if wants_fragment(request):
        return board_fragment(desk, context)
    return varies(
        page(
            request,
            "pages/booking/index.html",
            parent,
            page_title="Réservations",
            nav_active="reservations",
            **context,
        )
    )


def board_fragment(desk: BookingDesk, context: dict[str, Any]) -> Template:
    """The board for htmx: selectors and calendar, the basket bar out of band."""
    return fragment(
        "partials/booking/board_fragment.html",
        context,
        push_url=f"{desk.url}?" + context["selection"].query(),
    )


# --- taps and quick tools ------------------------------------------------------------


def target_days(target: str, selection: Selection) -> list[date]:
    """The days a tap or a quick tool covers: "jour:2026-12-02", "semaine:2026-11-30",
    "jour-semaine:2" (every Wednesday of the month), "mois"."""
    kind, _, value = target.partition(":")
    try:
        if kind == "jour":
            return [date.fromisoformat(value)]
        if kind == "semaine":
            return quicktools.week_of(date.fromisoformat(value))
        weekday = parse_count(value)
        if kind == "jour-semaine" and weekday is not None and weekday < 7:
            return quicktools.weekdays_of_month(selection.year, selection.month, weekday)
        if kind == "mois":
            return quicktools.month_days(selection.year, selection.month)
    except ValueError:
        pass
    raise BookingError("Sélection de jours incorrecte.")


@dataclass(frozen=True)
class TapResult:
    scope: BookingScope
    selection: Selection
    outcome: drafting.ToggleOutcome | None
    error: str | None
    days: tuple[date, ...] = ()  # the days the tap covered (their cells may have changed)


async def handle_tap(
    request: Request[Any, Any, Any], desk: BookingDesk, data: dict[str, Any]
) -> TapResult:
    """Shared by the page and the fragment: apply one tap or quick tool to the basket."""
    scope = await desk.scope()
    today = clock.local_today(str(scope.tz))
    selection = selection_from(
        scope, data.get("personne"), data.get("activite"), data.get("mois"), today
    )
    activity_id = int_or_none(data.get("activite_cible")) or selection.activity_id
    basket = load_basket(request, desk.family_id)
    days: list[date] = []
    try:
        if activity_id is None:
            raise BookingError("Choisissez d'abord une activité.")
        days = target_days(str(data.get("cible", "")), selection)
        outcome = await drafting.toggle_days(scope, basket, selection.person_id, activity_id, days)
    except BookingError as exc:
        return TapResult(scope, selection, None, str(exc), tuple(days))
    save_basket(request, desk.family_id, basket)
    return TapResult(scope, selection, outcome, outcome.message, tuple(days))


def times_url(
    desk: BookingDesk,
    selection: Selection,
    activity_id: int,
    days: tuple[date, ...],
    from_day: bool = False,
) -> str:
    """The times page; ``from_day``: asked from a day's list, which it returns to."""
    values: dict[str, Any] = {
        "personne": selection.person_id,
        "activite": activity_id,
        "mois": f"{selection.year:04d}-{selection.month:02d}",
        "jours": ",".join(d.isoformat() for d in days),
    }
    if from_day and len(days) == 1:
        values["depuis"] = days[0].isoformat()
    return f"{desk.url}/horaires?" + urlencode(values)


def back_from_times(desk: BookingDesk, selection: Selection, from_day: date | None) -> str:
    """Where the times page goes back to: the day's list it came from, or the month."""
    if from_day is None:
        return f"{desk.url}?" + selection.query()
    month = f"{selection.year:04d}-{selection.month:02d}"
    return f"{desk.url}/jour/{from_day.isoformat()}?" + urlencode(
        {"personne": selection.person_id, "mois": month}
    )


# A tap changes the session's basket only: it may check its scope against the versions
# read with the account (ParentContext.scope_versions).
@post("/reservations/basculer", opt={"reads_only": True})
async def tap(
    request: Request[Any, Any, Any], parent: Parent, data: MultiForm
) -> Redirect | Template | Response[str]:
    return await tap_answer(request, parent_desk(parent), data)


async def tap_answer(
    request: Request[Any, Any, Any], desk: BookingDesk, data: dict[str, Any]
) -> Redirect | Template | Response[str]:
    """A tap or a quick tool: htmx gets what changed, a plain form post the next page."""
    if wants_fragment(request):
        async with read_snapshot():  # a tap reads the register and writes only the session
            return await tap_fragment(request, desk, data)
    return await tap_and_return(request, desk, data)


async def tap_and_return(
    request: Request[Any, Any, Any], desk: BookingDesk, data: dict[str, Any]
) -> Redirect:
    """A tap as a plain form post: the times form, the day's list or the month next."""
    result = await handle_tap(request, desk, data)
    activity_id = int_or_none(data.get("activite_cible")) or result.selection.activity_id
    if result.outcome and result.outcome.needs_times and activity_id:
        from_day = bool(int_or_none(data.get("activite_cible")))
        return see_other(
            times_url(desk, result.selection, activity_id, result.outcome.needs_times, from_day)
        )
    if result.error:
        flash(request, result.error, "error")
    back = data.get("retour")
    if isinstance(back, str) and back.startswith(f"{desk.url}/jour/"):
        return see_other(back)
    return see_other(f"{desk.url}?" + result.selection.query())


# --- the day list (no activity selected) ---------------------------------------------


async def day_context(
    request: Request[Any, Any, Any],
    desk: BookingDesk,
    day_text: str,
    personne: Any,
    mois: Any,
    scope: BookingScope | None = None,
) -> dict[str, Any]:
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise NotFoundException("Date inconnue.") from None
    scope = scope or await desk.scope()
    selection = selection_from(scope, personne, None, mois or f"{day.year}-{day.month:02d}", day)
    basket = load_basket(request, desk.family_id)
    entries = await views.day_entries(scope, selection.person_id, day, basket)
    save_basket(request, desk.family_id, basket)
    return {
        "day": day,
        "day_label": long_date(day),
        "entries": entries,
        "selection": selection,
        "person": scope.person(selection.person_id),
        "glyphs": ICON_GLYPHS,
        "basket_count": len(basket),
        "back_query": selection.query(),
        "today": clock.local_today(str(scope.tz)),
        # Activities this child cannot book now (debt, file, rules): shown, not tappable.
        "blocked_ids": {
            e.activity.id
            for e in entries
            if scope.block_reasons(selection.person_id, e.activity.id)
        },
        **desk.template_context(),
    }


@get("/reservations/jour/{day_text:str}")
async def day_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    day_text: FromPath[str],
    personne: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None,
) -> Template:
    desk = parent_desk(parent)
    context = await day_context(request, desk, day_text, personne, mois)
    if wants_fragment(request):
        return day_fragment(desk, context)
    return varies(
        page(
            request,
            "pages/booking/day.html",
            parent,
            page_title=f"Réservations du {context['day_label']}",
            nav_active="reservations",
            **context,
        )
    )


def day_fragment(desk: BookingDesk, context: dict[str, Any]) -> Template:
    """A day's list for htmx, the basket bar out of band."""
    query = urlencode({"personne": context["selection"].person_id})
    return fragment(
        "partials/booking/day_fragment.html",
        context,
        push_url=f"{desk.url}/jour/{context['day'].isoformat()}?{query}",
    )


# --- time entry ----------------------------------------------------------------------


def _parse_days(raw: str) -> list[date]:
    days = []
    for part in raw.split(","):
        try:
            days.append(date.fromisoformat(part.strip()))
        except ValueError:
            continue
    return sorted(set(days))[:62]


def _parse_time(raw: Any) -> time | None:
    try:
        return time.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


async def times_context(
    request: Request[Any, Any, Any],
    desk: BookingDesk,
    personne: Any,
    activite: Any,
    mois: Any,
    jours: str,
    depuis: Any = None,
    arrivee: Any = None,
    depart: Any = None,
) -> dict[str, Any]:
    scope = await desk.scope()
    today = clock.local_today(str(scope.tz))
    selection = selection_from(scope, personne, activite, mois, today)
    activity = scope.activities.get(selection.activity_id or -1)
    if activity is None or not activity.time_entry:
        raise NotFoundException("Cette activité ne demande pas d'horaires.")
    days = _parse_days(jours)
    if not days:
        raise NotFoundException("Aucun jour choisi.")
    # The same dialog lets the parent cancel a booking of this activity in the month.
    month = await views.month_view(
        scope, selection.person_id, activity.id, selection.year, selection.month,
        load_basket(request, desk.family_id),
    )  # fmt: skip
    cancellable = [
        (cell.day, short_date(cell.day), entry.arrival, entry.departure)
        for week in month.weeks
        for cell in week
        if cell.in_month and (entry := cell.single) and entry.view.tap is TapAction.CANCEL
    ]
    from_day = _parse_days(str(depuis or ""))
    arrival_text = [t.strftime("%H:%M") for t in activity.arrivals]
    departure_text = [t.strftime("%H:%M") for t in activity.departures]
    # The times the cost is shown for: those asked (recalculated), else the preselected ones.
    arrival = str(arrivee) if arrivee in arrival_text else (arrival_text or [""])[0]
    departure = str(depart) if depart in departure_text else (departure_text or [""])[-1]
    cost = await time_costs.times_cost(
        scope, activity, days, _parse_time(arrival), _parse_time(departure)
    )
    return {
        "cost": cost,
        "chosen_arrival": arrival,
        "chosen_departure": departure,
        "from_day": from_day[0].isoformat() if len(from_day) == 1 else "",
        "back_url": back_from_times(desk, selection, from_day[0] if len(from_day) == 1 else None),
        "cancellable": cancellable,
        "scope": scope,
        "selection": selection,
        "activity": activity,
        "person": scope.person(selection.person_id),
        "days": [(d, short_date(d)) for d in days],
        "days_value": ",".join(d.isoformat() for d in days),
        "arrivals": [t.strftime("%H:%M") for t in activity.arrivals],
        "departures": [t.strftime("%H:%M") for t in activity.departures],
        "back_query": selection.query(),
        "errors": [],
        **desk.template_context(),
    }


@get("/reservations/horaires")
async def times_page(
    request: Request[Any, Any, Any],
    parent: Parent,
    personne: FromQuery[str | None] = None,
    activite: FromQuery[str | None] = None,
    mois: FromQuery[str | None] = None,
    jours: FromQuery[str] = "",
    depuis: FromQuery[str | None] = None,
    arrivee: FromQuery[str | None] = None,
    depart: FromQuery[str | None] = None,
) -> Template:
    context = await times_context(
        request, parent_desk(parent), personne, activite, mois, jours, depuis, arrivee, depart
    )
    return page(
        request, "pages/booking/times.html", parent, page_title="Horaires",
        nav_active="reservations", **context,
    )  # fmt: skip


def times_by_day(
    data: dict[str, Any], days: list[date]
) -> tuple[dict[date, tuple[time, time]], list[str]]:
    """One pair for all days, or per day when "arrivee_<date>" / "depart_<date>" are given."""
    common = (_parse_time(data.get("arrivee")), _parse_time(data.get("depart")))
    chosen: dict[date, tuple[time, time]] = {}
    errors = []
    for day in days:
        arrival = _parse_time(data.get(f"arrivee_{day.isoformat()}")) or common[0]
        departure = _parse_time(data.get(f"depart_{day.isoformat()}")) or common[1]
        if arrival is None or departure is None:
            errors.append(f"{short_date(day)} : choisissez l'heure d'arrivée et l'heure de départ.")
            continue
        chosen[day] = (arrival, departure)
    return chosen, errors


@post("/reservations/horaires")
async def times_submit(
    request: Request[Any, Any, Any], parent: Parent, data: MultiForm
) -> Template | Redirect:
    context, errors = await submit_times(request, parent_desk(parent), data)
    if errors:
        return page(
            request, "pages/booking/times.html", parent, status_code=400, page_title="Horaires",
            nav_active="reservations", **context,
        )  # fmt: skip
    return see_other(context["back_url"])


async def submit_times(
    request: Request[Any, Any, Any], desk: BookingDesk, data: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Draft the chosen times; the page's context and the errors (none: go back)."""
    context = await times_context(
        request,
        desk,
        data.get("personne"),
        data.get("activite"),
        data.get("mois"),
        str(data.get("jours", "")),
        data.get("depuis"),
        data.get("arrivee"),
        data.get("depart"),
    )
    scope: BookingScope = context["scope"]
    selection: Selection = context["selection"]
    days = [d for d, _ in context["days"]]
    chosen, errors = times_by_day(data, days)
    basket = load_basket(request, desk.family_id)
    if not errors:
        try:
            errors = await drafting.set_times(
                scope, basket, selection.person_id, context["activity"].id, chosen
            )
        except BookingError as exc:
            errors = [str(exc)]
    if errors:
        context["errors"] = errors
        return context, errors
    save_basket(request, desk.family_id, basket)
    return context, []


# --- recap, confirmation, result -----------------------------------------------------


async def recap_context(request: Request[Any, Any, Any], desk: BookingDesk) -> dict[str, Any]:
    scope = await desk.scope()
    basket = load_basket(request, desk.family_id)
    bookings, cancellations = await tracking.recap(scope, basket)
    return {
        "bookings": bookings,
        "cancellations": cancellations,
        "total_cents": sum(line.cost_cents or 0 for line in bookings),
        "short_date": short_date,
        "basket_count": len(basket),
        **desk.template_context(),
    }


@get("/reservations/recapitulatif")
async def recap_page(request: Request[Any, Any, Any], parent: Parent) -> Template:
    desk = parent_desk(parent)
    async with read_snapshot():
        context = await recap_context(request, desk)
    return page(
        request, "pages/booking/recap.html", parent, page_title="Récapitulatif de vos demandes",
        nav_active="reservations", back_query=await back_query(desk, request.query_params),
        **context,
    )  # fmt: skip


async def back_query(desk: BookingDesk, values: Any) -> str:
    """The calendar's child, activity and month to return to (« Modifier », « Abandonner »),
    read back through the selection rules; nothing when none was given."""
    if not values.get("personne"):
        return ""
    scope = await desk.scope()
    try:
        selection = selection_from(
            scope,
            values.get("personne"),
            values.get("activite"),
            values.get("mois"),
            clock.local_today(str(scope.tz)),
        )
    except NotFoundException:
        return ""
    return selection.query()


@post("/reservations/valider")
async def confirm(request: Request[Any, Any, Any], parent: Parent) -> Redirect:
    basket = load_basket(request, parent.family_id)
    if not len(basket):
        flash(request, "Votre panier est vide : il n'y a rien à valider.", "info")
        return see_other("/reservations")
    results = await apply.apply_basket(parent.account_id, parent.family_id, basket)
    save_basket(request, parent.family_id, basket)
    remember_results(request, parent.family_id, results)
    return see_other("/reservations/resultat")


def remember_results(
    request: Request[Any, Any, Any], family_id: int, results: list[apply.ItemResult]
) -> None:
    """The outcomes, for the result page that follows the redirect."""
    request.session["last_results"] = {
        "family_id": family_id,
        "items": [
            {
                "person_id": r.item.person_id,
                "activity_id": r.item.activity_id,
                "day": r.item.day.isoformat(),
                "action": r.item.action.value,
                "outcome": r.outcome.value,
                "remark": r.remark,
                "rank": r.waitlist_rank,
                "arrival": r.item.arrival.strftime("%H:%M") if r.item.arrival else None,
                "departure": r.item.departure.strftime("%H:%M") if r.item.departure else None,
            }
            for r in results
        ],
    }


@get("/reservations/resultat")
async def result_page(request: Request[Any, Any, Any], parent: Parent) -> Template | Redirect:
    context = await result_context(request, parent_desk(parent))
    if context is None:
        return see_other("/reservations")
    return page(
        request,
        "pages/booking/result.html",
        parent,
        page_title="Demandes enregistrées",
        nav_active="reservations",
        **context,
    )


async def result_context(
    request: Request[Any, Any, Any], desk: BookingDesk
) -> dict[str, Any] | None:
    """The last confirmation's outcomes for this family; None when there is none."""
    stored = request.session.get("last_results")
    if not stored or stored.get("family_id") != desk.family_id:
        return None
    scope = await desk.scope()
    names = {p.id: p.full_name for p in scope.people}
    first_names = {p.id: p.first_name for p in scope.people}
    items = []
    for item in stored["items"]:
        activity = scope.activities.get(item["activity_id"])
        items.append(
            {
                **item,
                "day": date.fromisoformat(item["day"]),
                "person": names.get(item["person_id"], "?"),
                "first_name": first_names.get(item["person_id"], "?"),
                "activity": activity.name if activity else "?",
                # The seed's "Arr." and "Dép.": the times chosen, else the activity's hours.
                "arrival": item.get("arrival")
                or (activity.start_time.strftime("%H:%M") if activity else ""),
                "departure": item.get("departure")
                or (activity.end_time.strftime("%H:%M") if activity else ""),
            }
        )
    remarks = [i for i in items if i["remark"]]
    return {
        "items": items,
        "remarks": remarks,
        "several_people": len(scope.people) > 1,
        "accepted": sum(1 for i in items if i["outcome"] == "accepted"),
        "cancelled": sum(1 for i in items if i["outcome"] == "cancelled"),
        "short_date": short_date,
        **desk.template_context(),
    }


def parse_qs_single(query: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(query[:500]).items() if values}


@post("/reservations/abandonner")
async def abandon(request: Request[Any, Any, Any], parent: Parent, data: Form) -> Redirect:
    return await abandon_basket(request, parent_desk(parent), data)


async def abandon_basket(
    request: Request[Any, Any, Any], desk: BookingDesk, data: dict[str, Any]
) -> Redirect:
    basket = load_basket(request, desk.family_id)
    basket.clear()
    save_basket(request, desk.family_id, basket)
    flash(request, "Vos demandes non validées ont été abandonnées.", "info")
    back = await back_query(desk, parse_qs_single(str(data.get("retour") or "")))
    return see_other(desk.url + (f"?{back}" if back else ""))


# --- copy ("Importer") ---------------------------------------------------------------


async def copy_context(desk: BookingDesk) -> dict[str, Any]:
    scope = await desk.scope()
    today = clock.local_today(str(scope.tz))
    choices = [{"person": p, "activities": scope.activities_of(p.id)} for p in scope.people]
    return {
        "choices": choices,
        "today": today,
        "errors": [],
        "report": None,
        "form": {},
        **desk.template_context(),
    }


def _pair(value: Any) -> tuple[int, int] | None:
    person, _, activity = str(value or "").partition(":")
    person_id, activity_id = int_or_none(person), int_or_none(activity)
    return (person_id, activity_id) if person_id and activity_id else None


@get("/reservations/importer")
async def copy_page(request: Request[Any, Any, Any], parent: Parent) -> Template:
    context = await copy_context(parent_desk(parent))
    return page(
        request, "pages/booking/copy.html", parent, page_title="Importer des réservations",
        nav_active="reservations", **context,
    )  # fmt: skip


@post("/reservations/importer")
async def copy_submit(request: Request[Any, Any, Any], parent: Parent, data: MultiForm) -> Template:
    context, status = await submit_copy(request, parent_desk(parent), data)
    return page(
        request, "pages/booking/copy.html", parent, status_code=status,
        page_title="Importer des réservations", nav_active="reservations", **context,
    )  # fmt: skip


async def submit_copy(
    request: Request[Any, Any, Any], desk: BookingDesk, data: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    """Copy days into the basket; the page's context (with the report) and its status."""
    context = await copy_context(desk)
    context["form"] = data
    source, target = _pair(data.get("source")), _pair(data.get("destination"))
    start = _parse_days(str(data.get("debut", "")))
    end = _parse_days(str(data.get("fin", "")))
    errors = []
    if source is None or target is None:
        errors.append("Choisissez l'enfant et l'activité d'origine et de destination.")
    if not start or not end:
        errors.append("Indiquez la période à copier (dates de début et de fin).")
    status = 400
    if not errors and source and target:
        scope = await desk.scope()
        basket = load_basket(request, desk.family_id)
        try:
            plan = await drafting.copy_days(
                scope, basket,
                source_person_id=source[0], source_activity_id=source[1],
                start=start[0], end=end[0],
                target_person_id=target[0], target_activity_id=target[1],
            )  # fmt: skip
        except BookingError as exc:
            errors.append(str(exc))
        else:
            save_basket(request, desk.family_id, basket)
            context["report"] = {
                "copied": [short_date(d) for d in plan.copied_days],
                "skipped": [(short_date(s.day), s.reason.label) for s in plan.skipped],
            }
            context["basket_count"] = len(basket)
            status = 200
    context["errors"] = errors
    return context, status


# --- a tap through htmx ----------------------------------------------------------------


async def tap_fragment(
    request: Request[Any, Any, Any], desk: BookingDesk, data: dict[str, Any]
) -> Template | Response[str]:
    """A tap through htmx: only what changed, or where to go next."""
    result = await handle_tap(request, desk, data)
    activity_id = int_or_none(data.get("activite_cible")) or result.selection.activity_id
    if result.outcome and result.outcome.needs_times and activity_id:
        # Time entry needs its own form: navigate there (htmx follows HX-Location).
        return Response(
            content="",
            headers={
                "HX-Location": times_url(
                    desk,
                    result.selection,
                    activity_id,
                    result.outcome.needs_times,
                    from_day=bool(int_or_none(data.get("activite_cible"))),
                )
            },
        )
    back = data.get("retour")
    if isinstance(back, str) and back.startswith(f"{desk.url}/jour/"):
        day_text = back.split(f"{desk.url}/jour/", 1)[1].split("?", 1)[0]
        context = await day_context(
            request,
            desk,
            day_text,
            result.selection.person_id,
            data.get("mois"),
            scope=result.scope,
        )
        context["error"] = result.error
        return fragment("partials/booking/day_fragment.html", context)
    selection = result.selection
    activity = result.scope.activities.get(selection.activity_id or -1)
    quick_tool = not str(data.get("cible", "")).startswith("jour:")
    # No activity chosen, or a quick tool (many days, and the tools' own « Réserver … » /
    # « Annuler … » change with them): the board as it is now.
    if activity is None or quick_tool:
        context = await calendar_context(
            request, desk, selection.person_id, data.get("activite"), data.get("mois"),
            scope=result.scope,
        )  # fmt: skip
        context["error"] = result.error
        return fragment("partials/booking/board_fragment.html", context)
    # Only what changed, out of band: the tapped days' cells, the basket bar, the error.
    basket = load_basket(request, desk.family_id)
    in_month = [d for d in result.days if (d.year, d.month) == (selection.year, selection.month)]
    cells = await views.cells_of(
        result.scope, selection.person_id, activity.id, in_month, basket,
        rows=result.outcome.rows if result.outcome else None,
    )  # fmt: skip
    save_basket(request, desk.family_id, basket)  # stale drafts were dropped
    cells_fragment = fragment(
        "partials/booking/tap_fragment.html",
        {
            "cells": cells,
            "activity": activity,
            "selection": selection,
            "error": result.error,
            "basket_count": len(basket),
            "month_label": month_label(selection.year, selection.month),
            "weekdays": WEEKDAYS,
            "glyphs": ICON_GLYPHS,
            "french_date": long_date,
            **desk.template_context(),
        },
    )
    cells_fragment.headers["HX-Reswap"] = "none"
    return cells_fragment


ROUTES = [
    booking_page,
    tap,
    day_page,
    times_page,
    times_submit,
    recap_page,
    confirm,
    result_page,
    abandon,
    copy_page,
    copy_submit,
]
