"""Back-office rules on plain values: forms read into typed values with French errors,
day generation from a weekly schedule, the families CSV, initial credentials.

Nothing here touches the database: the services load what these functions need and
write what they return.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from portal.domain import french_dates, numbers
from portal.domain.accounts import rules as account_rules
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
from portal.domain.money.rules import AmountError, parse_amount_cents

MAX_GENERATION_DAYS = 400
MAX_IMPORT_LINES = 5_000

WEEKDAY_LABELS = tuple(name.capitalize() for name in french_dates.WEEKDAYS)


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


_BAND = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def parse_tariff_form(data: Mapping[str, object]) -> TariffValues:
    errors: list[str] = []
    band = field_text(data, "tranche", 20).upper()
    if not _BAND.match(band):
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


# --- day generation ------------------------------------------------------------------


@dataclass(frozen=True)
class Closure:
    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


def parse_closures(text: str) -> list[Closure]:
    """One closure per line: "24/12/2026" or "21/12/2026 - 03/01/2027" (or "au")."""
    closures: list[Closure] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        cleaned = line.strip()
        if not cleaned:
            continue
        parts = [p for p in re.split(r"\s+(?:-|au|à)\s+|\s*–\s*", cleaned.removeprefix("du "))]
        try:
            if len(parts) == 1:
                day = parse_date(parts[0], "La date de fermeture")
                closures.append(Closure(day, day))
            elif len(parts) == 2:
                first = parse_date(parts[0], "Le début de fermeture")
                last = parse_date(parts[1], "La fin de fermeture")
                if last < first:
                    raise ValueError("la fin est avant le début.")
                closures.append(Closure(first, last))
            else:
                raise ValueError("écrivez une date ou « JJ/MM/AAAA - JJ/MM/AAAA ».")
        except ValueError as exc:
            errors.append(f"Fermetures, ligne {number} : {exc}")
    if errors:
        raise FormError(errors)
    return closures


@dataclass(frozen=True)
class Schedule:
    first: date
    last: date
    weekdays: frozenset[int]
    closures: tuple[Closure, ...] = ()


@dataclass(frozen=True)
class GenerationPlan:
    dates: tuple[date, ...]
    holidays: tuple[date, ...]
    closed: tuple[date, ...]


def parse_schedule_form(data: Mapping[str, object], weekdays: Iterable[str]) -> Schedule:
    errors: list[str] = []
    first = last = date.min
    try:
        first = parse_date(field_text(data, "du", 12), "La date de début")
        last = parse_date(field_text(data, "au", 12), "La date de fin")
        if last < first:
            errors.append("La date de fin est avant la date de début.")
        elif (last - first).days >= MAX_GENERATION_DAYS:
            errors.append(f"Générez au plus {MAX_GENERATION_DAYS} jours à la fois.")
    except ValueError as exc:
        errors.append(str(exc))
    days = (numbers.parse_count(str(w)) for w in weekdays)
    chosen = frozenset(d for d in days if d is not None and d < 7)
    if not chosen:
        errors.append("Cochez au moins un jour de la semaine.")
    closures: list[Closure] = []
    try:
        closures = parse_closures(field_text(data, "fermetures", 4000))
    except FormError as exc:
        errors.extend(exc.errors)
    if errors:
        raise FormError(errors)
    return Schedule(first, last, chosen, tuple(closures))


def plan_days(schedule: Schedule, subdiv: str | None = None) -> GenerationPlan:
    """Dates of the schedule's weekdays in its range, minus public holidays and closures."""
    dates: list[date] = []
    public: list[date] = []
    closed: list[date] = []
    day = schedule.first
    while day <= schedule.last:
        if day.weekday() in schedule.weekdays:
            if any(day in closure for closure in schedule.closures):
                closed.append(day)
            elif is_public_holiday(day, subdiv):
                public.append(day)
            else:
                dates.append(day)
        day += timedelta(days=1)
    return GenerationPlan(tuple(dates), tuple(public), tuple(closed))


@lru_cache(maxsize=64)
def _holidays(year: int, subdiv: str | None) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=year, subdiv=subdiv).keys())


def is_public_holiday(day: date, subdiv: str | None = None) -> bool:
    """French public holiday (any weekday; a weekday holiday is not a working day)."""
    if day.weekday() < 5:
        return not deadlines.is_working_day(day, subdiv)
    return day in _holidays(day.year, subdiv)


# --- families CSV --------------------------------------------------------------------

CSV_COLUMNS = {
    "famille": "nom de la famille (ex. « DUPONT Jean-Paul ») : les lignes de même nom "
    "forment une famille",
    "prenom": "prénom de l'enfant",
    "nom": "nom de l'enfant",
    "naissance": "date de naissance (JJ/MM/AAAA)",
    "tranche": "tranche tarifaire (A par défaut)",
    "emails": "adresses e-mail du compte, séparées par des virgules",
    "activites": "activités accessibles, séparées par « | »",
    "identifiant": "identifiant du compte (facultatif : généré sinon)",
    "dossier_complet": "oui ou non (oui par défaut)",
}
REQUIRED_COLUMNS = ("famille", "prenom", "nom")


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Ligne {self.line} : {self.message}" if self.line else self.message


@dataclass(frozen=True)
class ImportedPerson:
    line: int
    first_name: str
    last_name: str
    birth_date: date | None
    activity_ids: tuple[int, ...]


@dataclass
class ImportedFamily:
    line: int  # first line of the family
    name: str
    band: str
    emails: list[str]
    login: str | None
    file_complete: bool
    people: list[ImportedPerson] = field(default_factory=list)


@dataclass(frozen=True)
class CsvImport:
    families: list[ImportedFamily]
    errors: list[LineError]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.families)


HEADER_ALIASES = {
    "e_mails": "emails",
    "email": "emails",
    "e_mail": "emails",
    "courriels": "emails",
    "date_de_naissance": "naissance",
    "quotient": "tranche",
    "quotient_familial": "tranche",
    "login": "identifiant",
    "activite": "activites",
    "dossier": "dossier_complet",
}


def _normalise_header(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z_]", "", plain.strip().lower().replace(" ", "_").replace("-", "_"))
    return HEADER_ALIASES.get(key, key)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


_LOGIN = re.compile(r"^[A-Za-z0-9._@-]{3,150}$")


def parse_families_csv(
    text: str, activities: Mapping[str, int], bands: Iterable[str] | None = None
) -> CsvImport:
    """Read the families file (";" or "," separated, first line = column names).

    ``activities`` maps activity names (any case) to ids of the structure. Every problem is
    reported with its line number; a file with errors must import nothing.
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return CsvImport([], [LineError(0, "Le fichier est vide.")])
    if len(lines) > MAX_IMPORT_LINES + 1:
        return CsvImport([], [LineError(0, f"Au plus {MAX_IMPORT_LINES} lignes par import.")])
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [_normalise_header(h) for h in next(reader)]
    errors: list[LineError] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [h for h in header if h and h not in CSV_COLUMNS]
    if missing:
        errors.append(LineError(1, "colonne(s) manquante(s) : " + ", ".join(missing) + "."))
    if unknown:
        errors.append(LineError(1, "colonne(s) inconnue(s) : " + ", ".join(unknown) + "."))
    if errors:
        return CsvImport([], errors)
    known_bands = {b.upper() for b in bands} if bands is not None else None
    activity_keys = {_key(name): activity_id for name, activity_id in activities.items()}
    families: dict[str, ImportedFamily] = {}
    logins: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            errors.append(LineError(line, f"{len(row)} colonnes au lieu de {len(header)}."))
            continue
        values = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        problems: list[str] = []
        family_name = " ".join(values.get("famille", "").split())[:200]
        first_name = values.get("prenom", "")[:100]
        last_name = values.get("nom", "")[:100]
        if not family_name:
            problems.append("le nom de la famille est vide")
        if not first_name:
            problems.append("le prénom est vide")
        if not last_name:
            problems.append("le nom est vide")
        birth: date | None = None
        if values.get("naissance"):
            try:
                birth = parse_date(values["naissance"], "la date de naissance")
            except ValueError as exc:
                problems.append(str(exc).rstrip(".").replace("La date", "la date"))
        band = (values.get("tranche") or "A").upper()
        if not _BAND.match(band) or (known_bands is not None and band not in known_bands):
            allowed = ", ".join(sorted(known_bands)) if known_bands else "A, B, C..."
            problems.append(f"tranche « {band} » inconnue ({allowed})")
        emails, email_errors = account_rules.parse_emails(
            values.get("emails", "").replace(" ", ",")
        )
        problems += [e.rstrip(".") for e in email_errors]
        activity_ids: list[int] = []
        for raw_name in values.get("activites", "").split("|"):
            if not raw_name.strip():
                continue
            found = activity_keys.get(_key(raw_name))
            if found is None:
                problems.append(f"activité « {raw_name.strip()} » inconnue")
            elif found not in activity_ids:
                activity_ids.append(found)
        login = values.get("identifiant") or None
        if login is not None and not _LOGIN.match(login):
            problems.append(
                f"identifiant « {login} » invalide (3 à 150 lettres, chiffres, . _ - @)"
            )
        complete_text = (values.get("dossier_complet") or "oui").lower()
        if complete_text not in ("oui", "non", "o", "n", "1", "0"):
            problems.append(f"dossier_complet « {complete_text} » : écrivez oui ou non")
        file_complete = complete_text in ("oui", "o", "1")
        if problems:
            errors.append(LineError(line, "; ".join(problems) + "."))
            continue
        key = _key(family_name)
        family = families.get(key)
        if family is None:
            family = ImportedFamily(line, family_name, band, emails, login, file_complete)
            families[key] = family
            if login is not None:
                if login.lower() in logins:
                    errors.append(
                        LineError(
                            line,
                            f"identifiant « {login} » déjà donné ligne {logins[login.lower()]}.",
                        )
                    )
                logins[login.lower()] = line
        else:
            conflicts = []
            if band != family.band and values.get("tranche"):
                conflicts.append("tranche")
            if emails and emails != family.emails:
                if family.emails:
                    conflicts.append("e-mails")
                else:
                    family.emails = emails
            if login is not None and login != family.login:
                conflicts.append("identifiant")
            if conflicts:
                errors.append(
                    LineError(
                        line,
                        f"{', '.join(conflicts)} différent(s) de la ligne {family.line} pour la "
                        f"famille « {family_name} ».",
                    )
                )
                continue
        person_key = (_key(first_name), _key(last_name), birth)
        if any((_key(p.first_name), _key(p.last_name), p.birth_date) == person_key
               for p in family.people):  # fmt: skip
            errors.append(LineError(line, f"{first_name} {last_name} apparaît deux fois."))
            continue
        family.people.append(
            ImportedPerson(line, first_name, last_name, birth, tuple(activity_ids))
        )
    if not families and not errors:
        errors.append(LineError(0, "Le fichier ne contient aucune ligne de données."))
    return CsvImport(list(families.values()), errors)
