"""Demonstration data: two structures, three families with accounts, fillers, a live calendar.

Everything is computed relative to ``today`` (local date in Europe/Paris) so that the
calendar always shows past consumptions, a current month and bookable Wednesdays. The whole
load runs in one write transaction: a failure leaves nothing behind.

The plan is built in memory first (``_build_plan``): counters of each activity day are
derived from the planned reservations, waitlist ranks from their confirmation times, and
ledger debits from the tariffs in force on each day, so the invariants hold by
construction; ``_write_plan`` then inserts it with multi-row INSERTs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
from piccolo.table import Table

from portal import clock, demo_archive, demo_family_file, demo_periods, demo_staff_roles
from portal.db import write_transaction
from portal.demo_messages import load_messages_demo
from portal.demo_money import load_money_demo
from portal.demo_parent_tools import load_parent_tools_demo
from portal.domain.accounts.passwords import hash_password
from portal.domain.accounts.rules import CGU_VERSION, RGPD_VERSION
from portal.domain.booking import hours
from portal.domain.money import rules as money_rules
from portal.domain.money.manual import manual_label
from portal.domain.money.service import ONLINE_PAYMENT_LABEL
from portal.domain.payments.rules import ONLINE_CREDIT_LABEL
from portal.domain.reservation_status import MovementKind, ReservationStatus
from portal.tables import (
    Account,
    AccountFamily,
    Activity,
    ActivityDay,
    Enrollment,
    Family,
    LedgerEntry,
    Movement,
    NewsItem,
    Person,
    Reservation,
    RulesAcknowledgement,
    RulesDocument,
    StaffMember,
    StaffStructure,
    Structure,
    Tariff,
    Wallet,
    WalletType,
)

TZ_NAME = clock.DEFAULT_TIMEZONE
TZ = ZoneInfo(TZ_NAME)

# Public demo credentials, shown on the login page in demo mode.
DEMO_PASSWORDS = {
    "dupont": "Demo-Dupont-2026",
    "martin": "Demo-Martin-2026",
    "durand": "Demo-Durand-2026",
    "gestion": "Demo-Gestion-2026",
    "admin": "Demo-Admin-2026-!",
}

MAIRIE = "carteville"
MUSIQUE = "ecole-musique"

# Rows per INSERT statement: well under the bind-parameter limits of SQLite and asyncpg.
_CHUNK = 400


class DemoError(RuntimeError):
    """The demonstration data cannot be loaded (French message)."""


# --- dates and instants ---------------------------------------------------------------------


def _at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """UTC instant of a local wall-clock time in Europe/Paris."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=TZ).astimezone(UTC)


def _next_night(instant: datetime) -> datetime:
    """The nightly transmission (02:00 local) that follows ``instant``."""
    local = instant.astimezone(TZ)
    night = local.date() if local.time() < time(2, 0) else local.date() + timedelta(days=1)
    return _at(night, 2)


def _add_months(day: date, months: int) -> date:
    """First day of the month ``months`` away from ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _years_before(day: date, years: int, extra_days: int) -> date:
    try:
        anniversary = day.replace(year=day.year - years)
    except ValueError:  # 29 February
        anniversary = day.replace(year=day.year - years, day=28)
    return anniversary - timedelta(days=extra_days)


def _daterange(first: date, last: date) -> Iterable[date]:
    current = first
    while current <= last:
        yield current
        current += timedelta(days=1)


def _week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]


def _school_holiday_dates(first: date, last: date) -> set[date]:
    """A simple, zone-independent approximation of school holidays, for the demo only:
    the two weeks of Toussaint (ending on the Sunday on or after 1 November) and the weeks
    containing Christmas and New Year's Day."""
    closed: set[date] = set()
    for year in range(first.year - 1, last.year + 1):
        all_saints = date(year, 11, 1)
        sunday = all_saints + timedelta(days=(6 - all_saints.weekday()) % 7)
        closed.update(sunday - timedelta(days=i) for i in range(14))
        closed.update(_week_of(date(year, 12, 25)))
        closed.update(_week_of(date(year + 1, 1, 1)))
    return {d for d in closed if first <= d <= last}


# --- the catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class _ActivitySpec:
    key: str
    structure: str
    name: str
    color: str
    start: time
    end: time
    weekdays: frozenset[int]
    prices: dict[str, int]  # band -> unit price in cents
    deadline: str
    capacity: int | None = None
    waitlist: int | None = 0
    needs_decision: bool = False
    time_entry: bool = False
    arrivals: str = ""
    departures: str = ""
    unit_minutes: int | None = None
    revised_prices: dict[str, int] | None = None  # in force from the 1st of next month

    @property
    def school_days(self) -> bool:
        return self.structure == MAIRIE


_SCHOOL_DAYS = frozenset({0, 1, 3, 4})
_CANTEEN, _MORNING, _EVENING, _KIDS, _ALSH, _PIANO = (
    "cantine",
    "matin",
    "soir",
    "3-6",
    "alsh",
    "piano",
)

ACTIVITIES: tuple[_ActivitySpec, ...] = (
    _ActivitySpec(
        _CANTEEN,
        MAIRIE,
        "Restauration Scolaire",
        "#c2410c",
        time(11, 30),
        time(13, 30),
        _SCHOOL_DAYS,
        {"A": 422, "B": 345, "C": 268},
        "days:2@10:00",
        revised_prices={"A": 431, "B": 352, "C": 274},
    ),
    _ActivitySpec(
        _MORNING,
        MAIRIE,
        "Accueil Matin 1/2 heure",
        "#0369a1",
        time(7, 0),
        time(8, 30),
        _SCHOOL_DAYS,
        {"A": 32, "B": 26, "C": 20},
        "days:1@18:00",
        time_entry=True,
        arrivals="07:00,07:30,08:00",
        departures="08:30",
        unit_minutes=30,
    ),
    _ActivitySpec(
        _EVENING,
        MAIRIE,
        "Accueil Soir 1/2 heure",
        "#6d28d9",
        time(16, 30),
        time(18, 30),
        _SCHOOL_DAYS,
        {"A": 32, "B": 26, "C": 20},
        "days:1@18:00",
        time_entry=True,
        arrivals="16:30",
        departures="17:00,17:30,18:00,18:30",
        unit_minutes=30,
    ),
    _ActivitySpec(
        _KIDS,
        MAIRIE,
        "3-6 ans - Mercredi Matin",
        "#15803d",
        time(8, 30),
        time(12, 0),
        frozenset({2}),
        {"A": 650, "B": 520, "C": 390},
        "prevweek:thu@10:00",
        capacity=12,
        waitlist=5,
    ),
    _ActivitySpec(
        _ALSH,
        MAIRIE,
        "ALSH 6-12 - Mercredi Journée",
        "#b45309",
        time(8, 30),
        time(17, 30),
        frozenset({2}),
        {"A": 1280, "B": 1024, "C": 768},
        "days:7@12:00",
        capacity=24,
        waitlist=10,
    ),
    _ActivitySpec(
        _PIANO,
        MUSIQUE,
        "Cours de piano - 30 min",
        "#be185d",
        time(10, 0),
        time(10, 30),
        frozenset({5}),
        {"A": 900, "B": 750, "C": 600},
        "days:3@12:00",
        capacity=4,
        waitlist=2,
        needs_decision=True,
    ),
)
_SPECS = {spec.key: spec for spec in ACTIVITIES}

RULES_BODY_MAIRIE = """\
Le présent règlement s'applique à la restauration scolaire, à l'accueil périscolaire du \
matin et du soir et à l'accueil de loisirs du mercredi organisés par la Mairie de CarteVille.

Les réservations se font sur le Portail Famille dans les délais indiqués pour chaque \
activité. Toute journée réservée et non annulée dans les délais est facturée, sauf absence \
justifiée par un certificat médical transmis au service dans les 48 heures.

Les prestations sont réglées d'avance sur le porte-monnaie de la famille (carte bancaire \
en ligne, chèque à l'ordre du Trésor public, espèces en mairie). Au-delà de 50,00 € de \
dette, les nouvelles réservations sont suspendues jusqu'à régularisation.

Les enfants doivent respecter le personnel, leurs camarades et les locaux. Tout \
comportement mettant en danger la sécurité du groupe fera l'objet d'un entretien avec la \
famille et pourra conduire à une exclusion temporaire.
"""

RULES_BODY_MUSIQUE = """\
Les cours individuels de l'Ecole de musique de CarteVille ont lieu le samedi matin, hors \
vacances scolaires. Chaque demande de cours est étudiée par l'équipe pédagogique, qui \
l'accepte ou la refuse selon les places disponibles et le niveau de l'élève.

Les cours sont réglés d'avance sur le porte-monnaie « Ecole de musique ». Un cours annulé \
moins de trois jours à l'avance reste dû, sauf maladie de l'élève.

L'élève s'engage à travailler régulièrement son instrument et à participer aux auditions \
de fin de trimestre.
"""

_FILLER_SURNAMES = (
    "BERNARD",
    "THOMAS",
    "PETIT",
    "ROBERT",
    "RICHARD",
    "DURAND-LEROY",
    "MOREAU",
    "SIMON",
    "LAURENT",
    "LEFEBVRE",
    "MICHEL",
    "GARCIA",
    "DAVID",
    "BERTRAND",
    "ROUX",
    "VINCENT",
    "FOURNIER",
    "MOREL",
    "GIRARD",
    "ANDRE",
    "MERCIER",
    "BLANC",
    "GUERIN",
    "BOYER",
    "GARNIER",
    "CHEVALIER",
    "FRANCOIS",
    "LEGRAND",
    "GAUTHIER",
    "PERRIN",
    "ROBIN",
    "CLEMENT",
    "MORIN",
    "NICOLAS",
    "HENRY",
    "ROUSSEL",
    "MATHIEU",
    "GAUTIER",
    "MASSON",
    "MARCHAND",
)
_FILLER_PARENTS = ("Nathalie", "Stéphane", "Isabelle", "Frédéric", "Sandrine", "Olivier")
_FILLER_OLDER = (
    "Lucas",
    "Emma",
    "Gabriel",
    "Jade",
    "Louis",
    "Louise",
    "Raphaël",
    "Alice",
    "Arthur",
    "Chloé",
    "Jules",
    "Inès",
)
_FILLER_YOUNGER = ("Léo", "Rose", "Adam", "Mia", "Noah", "Zoé", "Tom", "Lina", "Nathan")
# 40 filler families: the first 34 have a 6-11 year old (enough for a full ALSH day with
# its waitlist), the last 17 a 3-5 year old (a full "3-6 ans" morning with its waitlist);
# families 23 to 33 have both.
_FILLER_FAMILIES = 40
_FILLER_OLDER_COUNT = 34
_FILLER_YOUNGER_FROM = 23


# --- the plan -------------------------------------------------------------------------------


@dataclass
class _Booking:
    family: str
    person: str
    activity: str
    day: date
    status: ReservationStatus
    confirmed_at: datetime
    transmitted_at: datetime | None
    arrival: time | None = None
    departure: time | None = None
    quantity: int = 1
    cancelled_at: datetime | None = None
    cancel_transmitted_at: datetime | None = None
    rank: int | None = None
    debit_price: int | None = None  # set for past accepted days: posted to the ledger


@dataclass
class _Payment:
    family: str
    day: date
    instant: datetime
    amount: int
    mode: str  # "CHEQUE" or "CB"
    payer: str
    bank: str
    piece: str


@dataclass
class _FamilySpec:
    key: str
    structure: str
    name: str
    band: str
    persons: list[tuple[str, str, str, date]]  # key, first name, last name, birth date
    account: str | None = None


@dataclass
class _Plan:
    today: date
    now: datetime
    first_day: date
    last_day: date
    days: dict[str, list[tuple[date, bool]]]  # activity -> (date, open)
    families: list[_FamilySpec] = field(default_factory=list)
    enrollments: list[tuple[str, str]] = field(default_factory=list)  # person, activity
    bookings: list[_Booking] = field(default_factory=list)
    payments: list[_Payment] = field(default_factory=list)
    scenarios: dict[str, dict[date, str]] = field(default_factory=dict)


def _tariffs(spec: _ActivitySpec, band: str, today: date) -> list[tuple[date, int]]:
    """(valid_from, unit price) of a band, as written to the Tariff table."""
    pairs = [(_years_before(today, 1, 0), spec.prices[band])]
    if spec.revised_prices is not None:
        pairs.append((_add_months(today, 1), spec.revised_prices[band]))
    return pairs


def _price(spec: _ActivitySpec, band: str, day: date, today: date) -> int:
    """The price the posting run will find for that day (the domain's rule)."""
    price = money_rules.price_in_force(_tariffs(spec, band, today), day)
    assert price is not None, "demo days are within the tariffs' validity"
    return price


def _build_plan(today: date, now: datetime) -> _Plan:
    first_day = _add_months(today, -2)
    # Far enough for the booking periods of demo_periods (a dozen Wednesdays past five
    # weeks ahead, school holidays included).
    last_day = _add_months(today, 5) - timedelta(days=1)
    public = set(holidays.country_holidays("FR", years=range(first_day.year, last_day.year + 1)))
    school_holidays = _school_holiday_dates(first_day, last_day)

    days: dict[str, list[tuple[date, bool]]] = {}
    for spec in ACTIVITIES:
        days[spec.key] = [
            (d, d not in public and not (spec.school_days and d in school_holidays))
            for d in _daterange(first_day, last_day)
            if d.weekday() in spec.weekdays
        ]
    open_days = {key: [d for d, is_open in rows if is_open] for key, rows in days.items()}
    plan = _Plan(today, now, first_day, last_day, days)
    # --- families -----------------------------------------------------------------------
    plan.families += [
        _FamilySpec(
            "dupont",
            MAIRIE,
            "DUPONT Jean-Paul",
            "B",
            [
                ("paolo", "Paolo", "DUPONT", _years_before(today, 7, 83)),
                ("amalia", "Amalia", "DUPONT", _years_before(today, 5, 41)),
            ],
            "dupont",
        ),
        _FamilySpec(
            "dupont-musique",
            MUSIQUE,
            "DUPONT Jean-Paul",
            "A",
            [("paolo-musique", "Paolo", "DUPONT", _years_before(today, 7, 83))],
            "dupont",
        ),
        _FamilySpec(
            "martin",
            MAIRIE,
            "MARTIN Sophie",
            "A",
            [("lea", "Léa", "MARTIN", _years_before(today, 8, 150))],
            "martin",
        ),
        _FamilySpec(
            "durand",
            MAIRIE,
            "DURAND Claire",
            "C",
            [("hugo", "Hugo", "DURAND", _years_before(today, 6, 20))],
            "durand",
        ),
    ]
    plan.enrollments += [
        ("paolo", _CANTEEN),
        ("paolo", _MORNING),
        ("paolo", _EVENING),
        ("paolo", _ALSH),
        ("amalia", _CANTEEN),
        ("amalia", _MORNING),
        ("amalia", _EVENING),
        ("amalia", _KIDS),
        ("paolo-musique", _PIANO),
        ("lea", _CANTEEN),
        ("lea", _ALSH),
        ("hugo", _CANTEEN),
        ("hugo", _MORNING),
        ("hugo", _EVENING),
    ]
    older: list[str] = []
    younger: list[str] = []
    for index in range(_FILLER_FAMILIES):
        surname = _FILLER_SURNAMES[index]
        persons: list[tuple[str, str, str, date]] = []
        if index < _FILLER_OLDER_COUNT:
            key = f"filler-{index}-older"
            first = _FILLER_OLDER[index % len(_FILLER_OLDER)]
            persons.append((key, first, surname, _years_before(today, 6 + index % 6, index * 7)))
            older.append(key)
            plan.enrollments += [(key, _ALSH), (key, _CANTEEN)]
        if index >= _FILLER_YOUNGER_FROM:
            key = f"filler-{index}-younger"
            first = _FILLER_YOUNGER[index % len(_FILLER_YOUNGER)]
            persons.append((key, first, surname, _years_before(today, 3 + index % 3, index * 5)))
            younger.append(key)
            plan.enrollments += [(key, _KIDS), (key, _CANTEEN)]
        parent = _FILLER_PARENTS[index % len(_FILLER_PARENTS)]
        plan.families.append(
            _FamilySpec(f"filler-{index}", MAIRIE, f"{surname} {parent}", "ABC"[index % 3], persons)
        )
    family_of = {p[0]: f.key for f in plan.families for p in f.persons}
    band_of = {f.key: f.band for f in plan.families}

    def book(
        person: str,
        activity: str,
        day: date,
        status: ReservationStatus,
        confirmed_at: datetime,
        *,
        transmitted: bool = True,
        arrival: time | None = None,
        departure: time | None = None,
    ) -> _Booking:
        spec = _SPECS[activity]
        quantity = 1
        if spec.time_entry:
            assert arrival is not None and departure is not None and spec.unit_minutes
            quantity = hours.billed_quantity(arrival, departure, spec.unit_minutes)
        family = family_of[person]
        booking = _Booking(
            family,
            person,
            activity,
            day,
            status,
            confirmed_at,
            _next_night(confirmed_at) if transmitted else None,
            arrival,
            departure,
            quantity,
        )
        if status is ReservationStatus.ACCEPTED and day < today:
            booking.debit_price = _price(spec, band_of[family], day, today)
        plan.bookings.append(booking)
        return booking

    def monthly_booking_time(day: date) -> datetime:
        """Parents book a month ahead: on the 20th of the month before, in the evening."""
        instant = _at(_add_months(day, -1).replace(day=20), 20, 30)
        return min(instant, now - timedelta(days=8))

    today_request = max(now - timedelta(minutes=25), _at(today, 0, 5))

    # --- DUPONT, mairie: regular canteen and care ---------------------------------------
    for day in open_days[_CANTEEN]:
        if day <= today + timedelta(days=7):
            at = monthly_booking_time(day)
            for person in ("paolo", "amalia"):
                book(person, _CANTEEN, day, ReservationStatus.ACCEPTED, at)
        elif day <= today + timedelta(days=14):
            for person in ("paolo", "amalia"):
                book(
                    person,
                    _CANTEEN,
                    day,
                    ReservationStatus.ACCEPTED,
                    today_request,
                    transmitted=False,
                )
    # Morning care on Mondays and Thursdays, evening care on Tuesdays and Fridays, with the
    # times each child's parents chose.
    timed = (
        (_MORNING, (0, 3), {"paolo": (time(7, 30), time(8, 30)),
                            "amalia": (time(7, 0), time(8, 30))}),
        (_EVENING, (1, 4), {"paolo": (time(16, 30), time(18, 0)),
                            "amalia": (time(16, 30), time(17, 30))}),
    )  # fmt: skip
    for activity, weekdays, chosen_times in timed:
        for day in open_days[activity]:
            if day <= today + timedelta(days=7) and day.weekday() in weekdays:
                at = monthly_booking_time(day)
                for person, (arrival, departure) in chosen_times.items():
                    book(
                        person, activity, day, ReservationStatus.ACCEPTED, at,
                        arrival=arrival, departure=departure,
                    )  # fmt: skip
    # A cancelled canteen day: booked with the month, cancelled this morning.
    cancellable = [
        b
        for b in plan.bookings
        if b.person == "amalia" and b.activity == _CANTEEN and b.day >= today + timedelta(days=3)
    ]
    if not cancellable:  # school holidays ahead: a day booked further on, then cancelled
        later = [d for d in open_days[_CANTEEN] if d >= today + timedelta(days=3)]
        if later:
            book("amalia", _CANTEEN, later[0], ReservationStatus.ACCEPTED, now - timedelta(days=6))
            cancellable = plan.bookings[-1:]
    if cancellable:
        cancelled = cancellable[0]
        if cancelled.transmitted_at is None:  # booked today: make it an older booking
            cancelled.confirmed_at = now - timedelta(days=6)
            cancelled.transmitted_at = _next_night(cancelled.confirmed_at)
        cancelled.status = ReservationStatus.CANCELLED
        cancelled.cancelled_at = today_request + timedelta(minutes=3)

    # --- Wednesdays -----------------------------------------------------------------------
    # Days whose booking deadline is comfortably ahead ("prevweek:thu@10:00" or
    # "days:7@12:00"): the scenarios go there so that the calendar shows them as such.
    bookable_from = today + timedelta(days=8)
    wednesdays = [d for d in open_days[_KIDS] if d >= bookable_from]
    # The last two stay free for Amalia (and Paolo) to book.
    usable = wednesdays[:-2] if len(wednesdays) > 2 else []
    kids_scenarios = ["full", "nearly-full", "waitlist-only", "full"]
    alsh_scenarios = ["full", "waitlist-only", "available", "full"]
    plan.scenarios[_KIDS] = dict(zip(usable, kids_scenarios, strict=False))
    plan.scenarios[_ALSH] = dict(zip(usable, alsh_scenarios, strict=False))
    for day in wednesdays:
        plan.scenarios[_KIDS].setdefault(day, "free")
        plan.scenarios[_ALSH].setdefault(day, "free")

    def fill(activity: str, day: date, pool: Sequence[str], accepted: int, waitlisted: int) -> None:
        shift = day.toordinal() // 7
        chosen = [pool[(shift + i) % len(pool)] for i in range(accepted + waitlisted)]
        assert len(set(chosen)) == len(chosen), "not enough filler children"
        for i, person in enumerate(chosen[:accepted]):
            book(
                person,
                activity,
                day,
                ReservationStatus.ACCEPTED,
                now - timedelta(days=14, minutes=-7 * i),
            )
        for i, person in enumerate(chosen[accepted:]):
            book(
                person,
                activity,
                day,
                ReservationStatus.WAITLISTED,
                now - timedelta(days=6, minutes=-11 * i),
            )

    kids_counts = {"full": (12, 5), "nearly-full": (10, 0), "waitlist-only": (12, 2)}
    alsh_counts = {"full": (24, 10), "waitlist-only": (24, 3), "available": (15, 0)}
    for day, scenario in plan.scenarios[_KIDS].items():
        if scenario in kids_counts:
            fill(_KIDS, day, younger, *kids_counts[scenario])
    for day, scenario in plan.scenarios[_ALSH].items():
        if scenario in alsh_counts:
            fill(_ALSH, day, older, *alsh_counts[scenario])
        if scenario == "full" and not any(
            b.status is ReservationStatus.REFUSED for b in plan.bookings
        ):
            book("paolo", _ALSH, day, ReservationStatus.REFUSED, now - timedelta(days=3, hours=2))
        elif scenario == "waitlist-only":
            book(
                "paolo", _ALSH, day, ReservationStatus.WAITLISTED, now - timedelta(days=2, hours=3)
            )
        elif scenario == "available":
            book("paolo", _ALSH, day, ReservationStatus.ACCEPTED, now - timedelta(days=5, hours=1))
    # Past Wednesdays (and future ones already out of deadline): the children went every
    # other week; future ones out of deadline are already well filled.
    for day in open_days[_KIDS]:
        if day >= bookable_from:
            continue
        week = day.isocalendar().week
        at = monthly_booking_time(day)
        if week % 2:
            book("amalia", _KIDS, day, ReservationStatus.ACCEPTED, at)
        else:
            book("paolo", _ALSH, day, ReservationStatus.ACCEPTED, at)
        if week % 3 == 0 and day < today:
            book("lea", _ALSH, day, ReservationStatus.ACCEPTED, at)
        if day >= today:
            fill(_KIDS, day, younger, 7, 0)
            fill(_ALSH, day, older, 18, 0)

    # --- MARTIN: every school day at the canteen, not fully paid ---------------------------
    for day in open_days[_CANTEEN]:
        if day < today:
            book("lea", _CANTEEN, day, ReservationStatus.ACCEPTED, monthly_booking_time(day))

    # --- DUPONT, music school: past lessons, two accepted, one awaiting a decision ---------
    saturdays = open_days[_PIANO]
    past_lessons = [d for d in saturdays if d < today][-4:]
    future_lessons = [d for d in saturdays if d >= today + timedelta(days=4)][:3]
    for day in past_lessons:
        book(
            "paolo-musique",
            _PIANO,
            day,
            ReservationStatus.ACCEPTED,
            _at(day - timedelta(days=9), 18, 40),
        )
    for day in future_lessons[:2]:
        book(
            "paolo-musique",
            _PIANO,
            day,
            ReservationStatus.ACCEPTED,
            now - timedelta(days=9, hours=4),
        )
    if len(future_lessons) == 3:
        yesterday_evening = _at(today, 0) - timedelta(hours=5)
        book(
            "paolo-musique", _PIANO, future_lessons[2], ReservationStatus.PENDING, yesterday_evening
        )

    # --- waitlist ranks, by confirmation time ------------------------------------------------
    waiting: dict[tuple[str, date], list[_Booking]] = defaultdict(list)
    for b in plan.bookings:
        if b.status is ReservationStatus.WAITLISTED:
            waiting[(b.activity, b.day)].append(b)
    for queue in waiting.values():
        for rank, b in enumerate(sorted(queue, key=lambda b: b.confirmed_at), start=1):
            b.rank = rank

    # --- payments ---------------------------------------------------------------------------
    piece = 1234

    def debits(family: str) -> int:
        return sum((b.debit_price or 0) * b.quantity for b in plan.bookings if b.family == family)

    def cheque(family: str, day: date, amount: int, payer: str, bank: str) -> None:
        nonlocal piece
        plan.payments.append(
            _Payment(family, day, _at(day, 9, 15), amount, "CHEQUE", payer, bank, f"{piece:07d}")
        )
        piece += 417

    def card(family: str, instant: datetime, amount: int, payer: str) -> None:
        local = instant.astimezone(TZ)
        number = local.strftime("%d%m%Y%H%M%S") + f"{local.microsecond // 1000:03d}"
        plan.payments.append(
            _Payment(
                family, local.date(), instant, amount, "CB", payer, ONLINE_PAYMENT_LABEL, number
            )
        )

    # DUPONT (mairie): a cheque at the start of each month, two card payments, a credit
    # of 42,30 € left.
    dupont_total = debits("dupont") + 4230
    cheque_days = [
        _add_months(first_day, i).replace(day=5)
        for i in range(3)
        if _add_months(first_day, i).replace(day=5) < today
    ]
    cheque_amount = (dupont_total * 6 // 10 // len(cheque_days)) // 1000 * 1000
    for day in cheque_days:
        cheque("dupont", day, cheque_amount, "DUPONT Jean-Paul", "Crédit Agricole")
    rest = dupont_total - cheque_amount * len(cheque_days)
    first_card = rest // 2 // 100 * 100
    card(
        "dupont",
        _at(_add_months(today, -1).replace(day=15), 10, 55, 32) + timedelta(milliseconds=906),
        first_card,
        "DUPONT Jean-Paul",
    )
    card(
        "dupont",
        _at(today - timedelta(days=3), 21, 7, 48) + timedelta(milliseconds=215),
        rest - first_card,
        "DUPONT Jean-Paul",
    )
    # DUPONT (music school): one card payment of 50 € before the first lesson.
    if past_lessons:
        card(
            "dupont-musique",
            _at(past_lessons[0] - timedelta(days=3), 19, 2, 11) + timedelta(milliseconds=77),
            5000,
            "DUPONT Jean-Paul",
        )
    # MARTIN: one cheque at the start, 82,40 € still due.
    martin_paid = debits("martin") - 8240
    if martin_paid <= 0:
        raise DemoError("Plan de démonstration incohérent : dette MARTIN impossible.")
    cheque("martin", first_day + timedelta(days=4), martin_paid, "MARTIN Sophie", "Banque Postale")

    for payment in plan.payments:
        assert payment.amount > 0, payment
    return plan


# --- writing ----------------------------------------------------------------------------


async def _bulk(table: type[Table], rows: Sequence[Table]) -> None:
    for start in range(0, len(rows), _CHUNK):
        await table.insert(*rows[start : start + _CHUNK])


async def _insert_one(row: Table) -> int:
    result = await type(row).insert(row)
    return int(result[0]["id"])


async def database_is_empty() -> bool:
    """True when no structure exists yet (the demo may then be loaded)."""
    return int(await Structure.count()) == 0


async def load_demo(today: date | None = None, *, documents_dir: Path | None = None) -> str:
    """Load the demonstration data in one transaction; returns a short French summary."""
    real_today = clock.local_today(TZ_NAME)
    if today is None:
        today = real_today
    now = clock.utcnow() if today == real_today else _at(today, 10, 0)
    plan = _build_plan(today, now)
    # Hashing is slow on purpose: do it before taking the write lock.
    hashes = {login: hash_password(password) for login, password in DEMO_PASSWORDS.items()}
    staff_role_hashes = demo_staff_roles.password_hashes()
    async with write_transaction():
        if not await database_is_empty():
            raise DemoError(
                "La base contient déjà des structures : les données de démonstration ne "
                "peuvent être chargées que dans une base vide."
            )
        taken = await Account.select(Account.login).where(
            Account.login.is_in(["dupont", "martin", "durand"])
        )
        if taken:
            logins = ", ".join(sorted(str(row["login"]) for row in taken))
            raise DemoError(
                f"Des comptes de démonstration existent déjà ({logins}) : "
                "chargez les données de démonstration dans une base vide."
            )
        counts = await _write_plan(plan, hashes, documents_dir)
        await _demo_second_factor(hashes["admin"])
        await load_money_demo(today, plan.first_day, TZ_NAME, MAIRIE, MUSIQUE)
        await load_messages_demo(now, MAIRIE)
        await demo_staff_roles.load(staff_role_hashes, MAIRIE)
        await load_parent_tools_demo(today, now, MAIRIE, documents_dir)
        await demo_archive.load(today, MAIRIE)
    await demo_periods.allocate_ended(now)
    scenario = plan.scenarios.get(_KIDS, {})
    free = [d for d, s in scenario.items() if s == "free"]
    return (
        "Données de démonstration chargées : 2 structures, "
        f"{counts['activities']} activités, {counts['days']} journées "
        f"du {plan.first_day:%d/%m/%Y} au {plan.last_day:%d/%m/%Y}, "
        f"{counts['families']} familles, {counts['persons']} personnes, "
        f"{counts['reservations']} réservations, {counts['ledger']} écritures. "
        f"Mercredis libres pour les 3-6 ans : {', '.join(f'{d:%d/%m}' for d in free) or 'aucun'}. "
        "Comptes : dupont, martin, durand ; personnel : gestion, regie, direction, admin."
    )


# Public on purpose (README, demo login page): only ever set on the demo's own `admin`.
DEMO_ADMIN_TOTP_SECRET = "PORTAILFAMILLEDEMOADMINISTRATEUR"  # noqa: S105 (demo only)


async def _demo_second_factor(admin_hash: str) -> None:
    """The demo administrator's TOTP, with a known secret (its code shows in demo mode)."""
    from portal.domain.staff.mfa import enrol_with_secret

    # Only the `admin` the demo just created (its hash is the one made above): an existing
    # administrator with that login keeps their own second factor.
    row = await StaffMember.objects().where(StaffMember.login == "admin").first()
    if row is not None and row.password_hash == admin_hash:
        await enrol_with_secret(int(row.id), DEMO_ADMIN_TOTP_SECRET)


async def _write_plan(
    plan: _Plan, hashes: dict[str, str], documents_dir: Path | None = None
) -> dict[str, int]:
    today, now = plan.today, plan.now
    year_ago = _years_before(today, 1, 0)
    last_night = _at(today, 2)

    # --- structures, wallets, activities, tariffs ---------------------------------------
    structures = {
        MAIRIE: await _insert_one(
            Structure(
                name="Mairie de CarteVille",
                slug=MAIRIE,
                contact_email="vie-scolaire@carteville.fr",
                timezone=TZ_NAME,
                debt_block_cents=None,
                last_transmission_at=last_night,
            )
        ),
        MUSIQUE: await _insert_one(
            Structure(
                name="Ecole de musique de CarteVille",
                slug=MUSIQUE,
                contact_email="ecole-musique@carteville.fr",
                timezone=TZ_NAME,
                debt_block_cents=None,
                last_transmission_at=last_night,
            )
        ),
    }
    wallet_types = {
        MAIRIE: await _insert_one(
            WalletType(
                structure=structures[MAIRIE],
                name="Services Scolaires et ALSH",
                debt_block_cents=5000,
                position=1,
            )
        ),
        MUSIQUE: await _insert_one(
            WalletType(
                structure=structures[MUSIQUE],
                name="Ecole de musique",
                debt_block_cents=None,
                position=1,
            )
        ),
    }
    activities: dict[str, int] = {}
    tariffs: list[Table] = []
    for position, spec in enumerate(ACTIVITIES, start=1):
        activities[spec.key] = await _insert_one(
            Activity(
                structure=structures[spec.structure],
                wallet_type=wallet_types[spec.structure],
                name=spec.name,
                color=spec.color,
                start_time=spec.start,
                end_time=spec.end,
                capacity=spec.capacity,
                waitlist_capacity=spec.waitlist,
                needs_decision=spec.needs_decision,
                booking_deadline=spec.deadline,
                cancellation_deadline=spec.deadline,
                time_entry=spec.time_entry,
                allowed_arrivals=spec.arrivals,
                allowed_departures=spec.departures,
                billing_unit_minutes=spec.unit_minutes,
                position=position,
                active=True,
            )
        )
        for band in spec.prices:
            tariffs.extend(
                Tariff(
                    activity=activities[spec.key],
                    band=band,
                    unit_price_cents=price,
                    valid_from=valid_from,
                )
                for valid_from, price in _tariffs(spec, band, today)
            )
    await _bulk(Tariff, tariffs)

    # --- activity days, with counters derived from the planned reservations -----------------
    accepted = Counter(
        (b.activity, b.day) for b in plan.bookings if b.status is ReservationStatus.ACCEPTED
    )
    waitlisted = Counter(
        (b.activity, b.day) for b in plan.bookings if b.status is ReservationStatus.WAITLISTED
    )
    day_rows: list[Table] = []
    for key, rows in plan.days.items():
        spec = _SPECS[key]
        for day, is_open in rows:
            day_rows.append(
                ActivityDay(
                    activity=activities[key],
                    day=day,
                    is_open=is_open,
                    capacity=spec.capacity,
                    waitlist_capacity=spec.waitlist,
                    accepted_count=accepted[(key, day)],
                    waitlisted_count=waitlisted[(key, day)],
                )
            )
    await _bulk(ActivityDay, day_rows)
    activity_key = {v: k for k, v in activities.items()}
    day_ids = {
        (activity_key[int(row["activity"])], clock.as_date(row["day"])): int(row["id"])
        for row in await ActivityDay.select(
            ActivityDay._meta.primary_key, ActivityDay.activity, ActivityDay.day
        ).where(ActivityDay.activity.is_in(list(activities.values())))
    }

    # --- accounts and staff ------------------------------------------------------------
    signed = now - timedelta(days=120)

    def settled_parent(
        login: str, name: str, emails: str, last_login: timedelta, created: timedelta
    ) -> Account:
        """A parent who accepted the CGU and the RGPD notice and chose a password."""
        return Account(
            login=login,
            password_hash=hashes[login],
            display_name=name,
            emails=emails,
            must_change_password=False,
            rgpd_version=RGPD_VERSION,
            rgpd_accepted_at=signed,
            cgu_version=CGU_VERSION,
            cgu_accepted_at=signed,
            password_changed_at=signed,
            last_login_at=now - last_login,
            created_at=signed - created,
        )

    accounts = {
        "dupont": await _insert_one(
            settled_parent(
                "dupont",
                "DUPONT Jean-Paul",
                "jean-paul.dupont@example.fr;famille.dupont@example.org",
                last_login=timedelta(days=3, hours=1),
                created=timedelta(days=2),
            )
        ),
        "martin": await _insert_one(
            settled_parent(
                "martin",
                "MARTIN Sophie",
                "sophie.martin@example.fr",
                last_login=timedelta(days=12),
                created=timedelta(days=5),
            )
        ),
        "durand": await _insert_one(
            Account(
                login="durand",
                password_hash=hashes["durand"],
                display_name="DURAND Claire",
                emails="claire.durand@example.fr",
                must_change_password=True,
                created_at=now - timedelta(days=2),
            )
        ),
    }
    staff: dict[str, int] = {
        str(row["login"]): int(row["id"])
        for row in await StaffMember.select(StaffMember._meta.primary_key, StaffMember.login).where(
            StaffMember.login.is_in(["gestion", "admin"])
        )
    }
    for login, display, is_admin in (
        ("gestion", "Agent de gestion CarteVille", False),
        ("admin", "Administrateur du portail", True),
    ):
        if login not in staff:  # an existing agent with that login is kept as it is
            staff[login] = await _insert_one(
                StaffMember(
                    login=login,
                    password_hash=hashes[login],
                    display_name=display,
                    is_admin=is_admin,
                )
            )
    await _bulk(
        StaffStructure,
        [StaffStructure(staff=staff["gestion"], structure=s) for s in structures.values()],
    )

    # --- families, persons, wallets, enrollments ----------------------------------------
    await _bulk(
        Family,
        [
            Family(
                structure=structures[f.structure],
                name=f.name,
                tariff_band=f.band,
                file_complete=True,
                created_at=signed - timedelta(days=10),
            )
            for f in plan.families
        ],
    )
    by_name = {
        (int(row["structure"]), str(row["name"])): int(row["id"])
        for row in await Family.select(
            Family._meta.primary_key, Family.structure, Family.name
        ).where(Family.structure.is_in(list(structures.values())))
    }
    families = {f.key: by_name[(structures[f.structure], f.name)] for f in plan.families}
    assert len(set(families.values())) == len(families), "family names must be unique"
    await _bulk(
        AccountFamily,
        [
            AccountFamily(account=accounts[f.account], family=families[f.key])
            for f in plan.families
            if f.account
        ],
    )
    await _bulk(
        Person,
        [
            Person(family=families[f.key], first_name=first, last_name=last, birth_date=born)
            for f in plan.families
            for _, first, last, born in f.persons
        ],
    )
    person_ids = {
        (int(row["family"]), str(row["first_name"])): int(row["id"])
        for row in await Person.select(
            Person._meta.primary_key, Person.family, Person.first_name
        ).where(Person.family.is_in(list(families.values())))
    }
    persons = {
        key: person_ids[(families[f.key], first)]
        for f in plan.families
        for key, first, _, _ in f.persons
    }
    await _bulk(
        Wallet,
        [
            Wallet(family=families[f.key], wallet_type=wallet_types[f.structure])
            for f in plan.families
        ],
    )
    wallets = {
        int(row["family"]): int(row["id"])
        for row in await Wallet.select(Wallet._meta.primary_key, Wallet.family).where(
            Wallet.family.is_in(list(families.values()))
        )
    }
    await _bulk(
        Enrollment,
        [Enrollment(person=persons[p], activity=activities[a]) for p, a in plan.enrollments],
    )

    # --- rules documents and signatures --------------------------------------------------
    in_force = _at(year_ago, 0)
    documents = {
        MAIRIE: await _insert_one(
            RulesDocument(
                structure=structures[MAIRIE],
                version=1,
                title="Règlement intérieur des services périscolaires",
                body=RULES_BODY_MAIRIE,
                in_force_from=in_force,
            )
        ),
        MUSIQUE: await _insert_one(
            RulesDocument(
                structure=structures[MUSIQUE],
                version=1,
                title="Règlement intérieur de l'Ecole de musique",
                body=RULES_BODY_MUSIQUE,
                in_force_from=in_force,
            )
        ),
    }
    await _bulk(
        RulesAcknowledgement,
        [
            RulesAcknowledgement(
                person=persons[person],
                document=documents[structure],
                account=accounts[account],
                signer_name=signer,
                place="CarteVille",
                signed_at=signed + timedelta(minutes=minutes),
            )
            for person, structure, account, signer, minutes in (
                ("paolo", MAIRIE, "dupont", "Jean-Paul DUPONT", 4),
                ("amalia", MAIRIE, "dupont", "Jean-Paul DUPONT", 5),
                ("paolo-musique", MUSIQUE, "dupont", "Jean-Paul DUPONT", 9),
                ("lea", MAIRIE, "martin", "Sophie MARTIN", 7),
            )
        ],
    )

    # --- reservations, movements, ledger --------------------------------------------------
    await _bulk(
        Reservation,
        [
            Reservation(
                family=families[b.family],
                person=persons[b.person],
                activity_day=day_ids[(b.activity, b.day)],
                status=b.status,
                arrival=b.arrival,
                departure=b.departure,
                quantity=b.quantity,
                waitlist_rank=b.rank,
                confirmed_at=b.confirmed_at,
                transmitted_at=None if b.cancelled_at else b.transmitted_at,
                created_by="parent",
                updated_at=b.cancelled_at or b.confirmed_at,
            )
            for b in plan.bookings
        ],
    )
    natural = [(persons[b.person], day_ids[(b.activity, b.day)], b.status) for b in plan.bookings]
    assert len(set(natural)) == len(natural), (
        "two planned reservations share person, day and status"
    )
    reservation_ids = {
        (int(row["person"]), int(row["activity_day"]), ReservationStatus(row["status"])): int(
            row["id"]
        )
        for row in await Reservation.select(
            Reservation._meta.primary_key,
            Reservation.person,
            Reservation.activity_day,
            Reservation.status,
        ).where(Reservation.family.is_in(list(families.values())))
    }
    movements: list[Table] = []
    ledger: list[Table] = []
    for b, natural_key in zip(plan.bookings, natural, strict=True):
        reservation = reservation_ids[natural_key]
        family = families[b.family]
        booked_outcome = (
            ReservationStatus.ACCEPTED if b.status is ReservationStatus.CANCELLED else b.status
        )
        movements.append(
            Movement(
                family=family,
                reservation=reservation,
                kind=MovementKind.BOOK,
                outcome=booked_outcome,
                actor="parent",
                created_at=b.confirmed_at,
                transmitted_at=b.transmitted_at,
                reported_at=b.transmitted_at,
            )
        )
        if b.cancelled_at:
            movements.append(
                Movement(
                    family=family,
                    reservation=reservation,
                    kind=MovementKind.CANCEL,
                    outcome=ReservationStatus.CANCELLED,
                    actor="parent",
                    created_at=b.cancelled_at,
                    transmitted_at=b.cancel_transmitted_at,
                    reported_at=b.cancel_transmitted_at,
                )
            )
        if b.debit_price is not None:
            spec = _SPECS[b.activity]
            ledger.append(
                LedgerEntry(
                    wallet=wallets[family],
                    family=family,
                    kind=money_rules.entry_kind(-b.debit_price * b.quantity),
                    amount_cents=-b.debit_price * b.quantity,
                    entry_date=b.day,
                    label=spec.name,
                    person=persons[b.person],
                    activity=activities[b.activity],
                    reservation=reservation,
                    unit_price_cents=b.debit_price,
                    quantity=b.quantity,
                    dedupe_key=money_rules.consumption_key(reservation),
                    created_at=_at(b.day + timedelta(days=1), 2, 5),
                )
            )
    for n, p in enumerate(plan.payments, start=1):
        family = families[p.family]
        ledger.append(
            LedgerEntry(
                wallet=wallets[family],
                family=family,
                kind=money_rules.entry_kind(p.amount),
                amount_cents=p.amount,
                entry_date=p.day,
                label=manual_label(p.mode) if p.mode == "CHEQUE" else ONLINE_CREDIT_LABEL,
                payment_mode=p.mode,
                piece_number=p.piece,
                payer_name=p.payer,
                bank_name=p.bank,
                dedupe_key=f"demo-payment:{n}",
                created_at=p.instant,
            )
        )
    await _bulk(Movement, movements)
    await _bulk(LedgerEntry, ledger)

    # --- news -----------------------------------------------------------------------------
    monday = today - timedelta(days=today.weekday())
    await _bulk(NewsItem, _news(structures, today, now, monday))
    await demo_family_file.load(structures[MAIRIE], families, persons, today, now, documents_dir)
    await demo_periods.load(
        structures[MAIRIE],
        activities[_ALSH],
        {p[0]: families[f.key] for f in plan.families for p in f.persons},
        persons,
        [f"filler-{index}-older" for index in range(_FILLER_OLDER_COUNT)],
        today,
        "33850",
    )

    return {
        "activities": len(activities),
        "days": len(day_rows),
        "families": len(families),
        "persons": len(persons),
        "reservations": len(plan.bookings),
        "ledger": len(ledger),
    }


def _news(structures: dict[str, int], today: date, now: datetime, monday: date) -> list[Table]:
    mairie, musique = structures[MAIRIE], structures[MUSIQUE]
    return [
        NewsItem(
            structure=mairie,
            title="Inscriptions aux vacances d'hiver ouvertes",
            body=(
                "Les inscriptions à l'accueil de loisirs pour les vacances d'hiver sont "
                "ouvertes sur le Portail Famille jusqu'au vendredi précédant les vacances. "
                "Pensez à vérifier que le règlement intérieur est signé pour chaque enfant."
            ),
            visible_from=now - timedelta(days=2),
            visible_to=now + timedelta(days=30),
            created_at=now - timedelta(days=2),
        ),
        NewsItem(
            structure=mairie,
            title="Menu de la semaine",
            body=(
                "Lundi : carottes râpées, hachis parmentier, yaourt. Mardi : potage de "
                "légumes, poisson pané et riz, fruit. Jeudi : repas végétarien, lasagnes aux "
                "légumes, compote. Vendredi : salade de lentilles, poulet rôti et haricots "
                "verts, fromage blanc."
            ),
            visible_from=_at(monday, 0),
            visible_to=_at(monday + timedelta(days=7), 0),
            created_at=_at(monday, 0) - timedelta(days=3),
        ),
        NewsItem(
            structure=mairie,
            title="Réunion d'information des familles",
            body=(
                "Une réunion d'information sur les services périscolaires a eu lieu en "
                "salle du conseil municipal. Le compte-rendu est disponible en mairie."
            ),
            visible_from=now - timedelta(days=45),
            visible_to=now - timedelta(days=15),
            created_at=now - timedelta(days=46),
        ),
        NewsItem(
            structure=mairie,
            title="Spectacle de fin de trimestre",
            body=(
                "Les enfants de l'accueil de loisirs présenteront leur spectacle aux familles "
                "le dernier mercredi avant les vacances, à 16 h 30, salle des fêtes."
            ),
            visible_from=now + timedelta(days=7),
            visible_to=now + timedelta(days=40),
            created_at=now - timedelta(days=1),
        ),
        NewsItem(
            structure=musique,
            title="Audition des élèves de piano",
            body=(
                "L'audition de fin de trimestre des élèves de piano aura lieu samedi "
                f"{(today + timedelta(days=(5 - today.weekday()) % 7 + 21)):%d/%m} à 11 h, "
                "à l'auditorium de l'école. Entrée libre."
            ),
            visible_from=now - timedelta(days=5),
            visible_to=None,
            created_at=now - timedelta(days=5),
        ),
    ]
