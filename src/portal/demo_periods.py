"""Demonstration booking periods of the Mairie de CarteVille over the days of the 6-12
leisure centre (« ALSH 6-12 », where DUPONT's Paolo and MARTIN's Léa are enrolled; the 3-6
days stay first come, as the other demo journeys expect). One period in each state a town
meets in a year:

Each takes the next two open days of the leisure centre from five weeks ahead on (the
last one, one day), whatever the date the demo is loaded on:

- « Mercredis de <mois> » (premier arrivé): opens in a week at 08:30;
- « Vacances d'hiver » (tirage au sort): opens in two weeks at 08:30, requests for 48 h;
- « Vacances de printemps » (priorités: domiciliés à CarteVille, parents en activité,
  handicap, then places spread between families): opened yesterday at 08:30, its window
  runs for three more days; DUPONT, MARTIN and twenty other families have asked for days;
- « Sorties du mercredi, <mois> » (priorités: parents en activité, then spread): its
  window ended eight days ago and the allocation ran, through the same code as the actor:
  36 children asked for one Wednesday of 24 places and 10 on the waiting list.

Before each opening DUPONT can put the days into his basket and read the rules from the
calendar; during the window he sees his requests « en attente du tirage »; after the
allocation, his outcome in Suivi and the calendar; staff see the periods under « Périodes »
and the allocation report of the last one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.context import current_settings
from portal.domain.french_dates import MONTHS
from portal.domain.periods.allocate import allocate_period, periods_due
from portal.domain.periods.rules import new_seed
from portal.tables import ActivityDay, BookingPeriod, BookingPeriodActivity, PeriodRequest

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class _PeriodSpec:
    name: str
    mode: str
    opens_in: int  # days from today (negative: already open)
    # Its days: a slice of the activity's open days from FIRST_DAY_OFFSET on, in order, so
    # that every period has days whatever the date the demo is loaded on (school holidays
    # close some Wednesdays, months differ in length).
    open_days: tuple[int, int]
    window_hours: int | None
    criteria: str = ""
    # Who asks for the period's days during its window: the named children on every open
    # day, the first `fillers` other 6-12 children on its first day.
    askers: tuple[str, ...] = ()
    fillers: int = 0


# Five weeks ahead: the Wednesdays before stay the other demo screens' (full, waiting list,
# free). The demo's data reaches five months ahead, a dozen Wednesdays past this.
FIRST_DAY_OFFSET = 35

PERIODS = (
    _PeriodSpec("Mercredis de {month}", "first_come", 7, (0, 2), None),
    _PeriodSpec("Vacances d'hiver", "lottery", 14, (2, 4), 48),
    _PeriodSpec(
        "Vacances de printemps",
        "priority",
        -1,
        (4, 6),
        96,
        "resident,working,disability,spread",
        askers=("paolo", "lea"),
        fillers=20,
    ),
    _PeriodSpec(
        "Sorties du mercredi, {month}",
        "priority",
        -12,
        (6, 7),
        96,
        "working,spread",
        askers=("paolo", "lea"),
        fillers=34,
    ),
)


def _at_0830(day: date) -> datetime:
    return datetime.combine(day, time(8, 30), tzinfo=PARIS).astimezone(ZoneInfo("UTC"))


def _demo_seed(spec: _PeriodSpec, first_day: date) -> str:
    """A period whose draw already ran gets a seed fixed by its days, so that a demo loaded
    for a given date always shows the same outcome; the others get a fresh one."""
    if spec.opens_in >= 0:
        return new_seed()
    return hashlib.sha256(f"demo:{spec.name}:{first_day.isoformat()}".encode()).hexdigest()


async def load(
    structure_id: int,
    activity_id: int,
    family_of: dict[str, int],
    persons: dict[str, int],
    fillers: list[str],
    today: date,
    postcodes: str,
) -> None:
    """Insert the periods and their window's requests (inside load_demo's transaction).
    `family_of` and `persons` map a demo child's key to its family's id and its own;
    `fillers` are the other 6-12 children's keys."""
    open_days = await _open_days(activity_id, today + timedelta(days=FIRST_DAY_OFFSET))
    for spec in PERIODS:
        days = open_days[spec.open_days[0] : spec.open_days[1]]
        if not days:
            continue  # not reached on any date of a year (tests/unit/periods)
        first_day, last_day = days[0][1], days[-1][1]
        opens_at = _at_0830(today + timedelta(days=spec.opens_in))
        title = spec.name.format(month=MONTHS[first_day.month - 1])
        inserted = await BookingPeriod.insert(
            BookingPeriod(
                structure=structure_id,
                name=f"{title} {first_day.year}",
                first_day=first_day,
                last_day=last_day,
                opens_at=opens_at,
                mode=spec.mode,
                window_ends_at=(
                    opens_at + timedelta(hours=spec.window_hours) if spec.window_hours else None
                ),
                criteria=spec.criteria,
                resident_postcodes=postcodes if spec.criteria else "",
                seed=_demo_seed(spec, first_day),
                created_at=_at_0830(today + timedelta(days=min(0, spec.opens_in - 14))),
            )
        ).returning(BookingPeriod.id)
        period_id = int(inserted[0]["id"])
        await BookingPeriodActivity.insert(
            BookingPeriodActivity(period=period_id, activity=activity_id)
        )
        asked = [(key, day_id) for key in spec.askers for day_id, _ in days]
        asked += [(key, days[0][0]) for key in fillers[: spec.fillers]]
        if not asked:
            continue
        await PeriodRequest.insert(
            *[
                PeriodRequest(
                    period=period_id,
                    family=family_of[key],
                    person=persons[key],
                    activity_day=day_id,
                    # Spread over the window's first hours, the parents' own order.
                    requested_at=opens_at + timedelta(minutes=3 + 7 * n),
                )
                for n, (key, day_id) in enumerate(asked)
            ]
        )


async def _open_days(activity_id: int, first: date) -> list[tuple[int, date]]:
    rows = await (
        ActivityDay.select(ActivityDay.id, ActivityDay.day)
        .where(
            (ActivityDay.activity == activity_id)
            & (ActivityDay.day >= first)
            & (ActivityDay.is_open == True)  # noqa: E712
        )
        .order_by(ActivityDay.day)
    )
    return [(int(row["id"]), row["day"]) for row in rows]


async def allocate_ended(now: datetime) -> None:
    """Run the allocation of the demo periods whose window has ended, as the minute sweep's
    actor would (after load_demo's transaction: it takes its own, day by day); the outcome
    e-mails wait in the outbox for the relay."""
    base_url = current_settings().base_url
    for period_id in await periods_due(now):
        await allocate_period(period_id, base_url=base_url, now=now)
