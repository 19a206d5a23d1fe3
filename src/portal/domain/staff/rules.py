"""Activity rules on plain values: the activity and tariff forms, capacity changes.

Nothing here touches the database: the activities service loads what these functions
need and writes what they return. Day generation is in schedule.py, the families CSV in
families_csv.py, form fields in domain/form_fields.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from portal.domain import numbers
from portal.domain.booking import deadlines, hours
from portal.domain.form_fields import (
    FormError,
    field_flag,
    field_text,
    parse_count,
    parse_date,
    parse_local_datetime,
    parse_time,
)
from portal.domain.money.rules import TARIFF_BAND, AmountError, parse_amount_cents

# --- capacities ----------------------------------------------------------------------


def capacity_error(new_capacity: int | None, accepted_count: int) -> str | None:
    """A day's capacity cannot go below the places already accepted."""
    if new_capacity is not None and new_capacity < accepted_count:
        return (
            f"Capacité impossible : {accepted_count} place(s) sont déjà acceptées ce jour-là. "
            f"La capacité ne peut pas descendre en dessous de {accepted_count} ; annulez ou "
            "refusez d'abord des réservations."
        )
    return None


def waitlist_error(new_capacity: int | None, waitlisted_count: int) -> str | None:
    if new_capacity is not None and new_capacity < waitlisted_count:
        return (
            f"Liste d'attente impossible : {waitlisted_count} demande(s) y sont déjà inscrites. "
            f"Elle ne peut pas descendre en dessous de {waitlisted_count}."
        )
    return None


# --- activities ----------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityValues:
    name: str
    wallet_type_id: int
    color: str
    start_time: time
    end_time: time
    capacity: int | None
    waitlist_capacity: int | None
    needs_decision: bool
    booking_opens_at: datetime | None
    booking_deadline: str
    cancellation_deadline: str
    time_entry: bool
    allowed_arrivals: str
    allowed_departures: str
    billing_unit_minutes: int | None
    position: int
    active: bool

    def as_row(self) -> dict[str, object]:
        return {
            "name": self.name,
            "wallet_type": self.wallet_type_id,
            "color": self.color,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "capacity": self.capacity,
            "waitlist_capacity": self.waitlist_capacity,
            "needs_decision": self.needs_decision,
            "booking_opens_at": self.booking_opens_at,
            "booking_deadline": self.booking_deadline,
            "cancellation_deadline": self.cancellation_deadline,
            "time_entry": self.time_entry,
            "allowed_arrivals": self.allowed_arrivals,
            "allowed_departures": self.allowed_departures,
            "billing_unit_minutes": self.billing_unit_minutes,
            "position": self.position,
            "active": self.active,
        }


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _deadline(raw: str, label: str, errors: list[str]) -> str:
    try:
        return deadlines.format_rule(deadlines.parse_rule(raw))
    except ValueError as exc:
        errors.append(f"{label} : {exc}")
        return raw


def describe_deadline(stored: str) -> str:
    """French wording of a stored rule, or the parse error for a broken one."""
    try:
        return deadlines.describe_rule(deadlines.parse_rule(stored))
    except ValueError as exc:
        return str(exc)


def parse_activity_form(
    data: Mapping[str, object], wallet_type_ids: Iterable[int], tz: ZoneInfo
) -> ActivityValues:
    """Read the activity form; raise FormError with every problem found."""
    errors: list[str] = []
    name = field_text(data, "nom")
    if not name:
        errors.append("Le nom de l'activité est obligatoire.")
    wallet_text = field_text(data, "porte_monnaie", 12)
    wallet_type_id = numbers.parse_count(wallet_text) or 0
    if wallet_type_id not in set(wallet_type_ids):
        errors.append("Choisissez le porte-monnaie débité par cette activité.")
    color = field_text(data, "couleur", 7) or "#1d4ed8"
    if not _COLOR.match(color):
        errors.append("La couleur doit être au format #RRGGBB.")
    start = end = time(0, 0)
    try:
        start = parse_time(field_text(data, "debut", 5), "L'heure de début")
        end = parse_time(field_text(data, "fin", 5), "L'heure de fin")
        if end <= start:
            errors.append("L'heure de fin doit être postérieure à l'heure de début.")
    except ValueError as exc:
        errors.append(str(exc))
    capacity = waitlist = None
    try:
        capacity = parse_count(field_text(data, "capacite", 6), "La capacité")
    except ValueError as exc:
        errors.append(str(exc))
    try:
        waitlist = parse_count(field_text(data, "liste_attente", 6), "La liste d'attente")
    except ValueError as exc:
        errors.append(str(exc))
    opens_at = None
    try:
        opens_at = parse_local_datetime(
            field_text(data, "ouverture", 20), tz, "L'ouverture des réservations"
        )
    except ValueError as exc:
        errors.append(str(exc))
    booking = _deadline(field_text(data, "delai_reservation", 40), "Délai de réservation", errors)
    cancelling = _deadline(field_text(data, "delai_annulation", 40), "Délai d'annulation", errors)
    time_entry = field_flag(data, "saisie_horaires")
    arrivals = departures = ""
    unit: int | None = None
    if time_entry:
        try:
            parsed_arrivals = hours.parse_allowed_times(field_text(data, "arrivees"))
            parsed_departures = hours.parse_allowed_times(field_text(data, "departs"))
            if not parsed_arrivals or not parsed_departures:
                errors.append(
                    "Avec la saisie des horaires, indiquez les heures d'arrivée et de départ "
                    "possibles (par exemple 07:00, 07:30)."
                )
            arrivals = hours.format_allowed_times(parsed_arrivals)
            departures = hours.format_allowed_times(parsed_departures)
        except ValueError as exc:
            errors.append(str(exc))
        unit_text = field_text(data, "unite", 4) or "30"
        parsed_unit = numbers.parse_count(unit_text)
        if parsed_unit is None or not 1 <= parsed_unit <= 1440:
            errors.append("L'unité de facturation est un nombre de minutes entre 1 et 1440.")
        else:
            unit = parsed_unit
    position_text = field_text(data, "position", 6) or "0"
    position = numbers.parse_count(position_text) or 0
    if errors:
        raise FormError(errors)
    return ActivityValues(
        name=name,
        wallet_type_id=wallet_type_id,
        color=color.lower(),
        start_time=start,
        end_time=end,
        capacity=capacity,
        waitlist_capacity=waitlist,
        needs_decision=field_flag(data, "decision"),
        booking_opens_at=opens_at,
        booking_deadline=booking,
        cancellation_deadline=cancelling,
        time_entry=time_entry,
        allowed_arrivals=arrivals,
        allowed_departures=departures,
        billing_unit_minutes=unit,
        position=position,
        active=field_flag(data, "active"),
    )


@dataclass(frozen=True)
class TariffValues:
    band: str
    unit_price_cents: int
    valid_from: date


def parse_tariff_form(data: Mapping[str, object]) -> TariffValues:
    errors: list[str] = []
    band = field_text(data, "tranche", 20).upper()
    if not TARIFF_BAND.match(band):
        errors.append("La tranche (quotient familial) est un code court : A, B, C, QF1...")
    cents = 0
    try:
        cents = parse_amount_cents(field_text(data, "prix", 30))
    except AmountError as exc:
        errors.append(f"Prix : {exc}")
    valid_from = date.min
    try:
        valid_from = parse_date(field_text(data, "a_partir_du", 12), "La date d'effet")
    except ValueError as exc:
        errors.append(str(exc))
    if errors:
        raise FormError(errors)
    return TariffValues(band, cents, valid_from)
