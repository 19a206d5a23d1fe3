"""Demonstration booking periods of the Mairie de CarteVille, one upcoming period in each
mode, over the days of the 6-12 leisure centre (« ALSH 6-12 », where DUPONT's Paolo is
enrolled; the 3-6 days stay first come, as the other demo journeys expect):

- « Mercredis de <mois> » (premier arrivé): opens in a week at 08:30;
- « Vacances d'hiver » (tirage au sort): opens in two weeks at 08:30, requests for 48 h;
- « Vacances de printemps » (priorités: domiciliés à CarteVille, then places spread
  between families): opens in three weeks at 08:30, requests for 48 h.

Before each opening DUPONT can put the days into his basket and read the rules from the
calendar; staff see and edit the periods under « Périodes ».
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.domain.french_dates import MONTHS
from portal.domain.periods.rules import new_seed
from portal.tables import BookingPeriod, BookingPeriodActivity

PARIS = ZoneInfo("Europe/Paris")

# (name, mode, opens in days, first day, last day offsets, window hours, criteria)
PERIODS = [
    ("Mercredis de {month}", "first_come", 7, 35, 48, None, ""),
    ("Vacances d'hiver", "lottery", 14, 49, 62, 48, ""),
    (
        "Vacances de printemps",
        "priority",
        21,
        63,
        80,
        48,
        "resident,working,disability,spread",
    ),
]


def _at_0830(day: date) -> datetime:
    return datetime.combine(day, time(8, 30), tzinfo=PARIS).astimezone(ZoneInfo("UTC"))


async def load(structure_id: int, activity_ids: list[int], today: date, postcodes: str) -> int:
    """Insert the three periods (inside load_demo's transaction); returns how many."""
    for name, mode, opens_in, first, last, window_hours, criteria in PERIODS:
        opens_at = _at_0830(today + timedelta(days=opens_in))
        first_day = today + timedelta(days=first)
        title = name.format(month=MONTHS[first_day.month - 1])
        inserted = await BookingPeriod.insert(
            BookingPeriod(
                structure=structure_id,
                name=f"{title} {first_day.year}",
                first_day=first_day,
                last_day=today + timedelta(days=last),
                opens_at=opens_at,
                mode=mode,
                window_ends_at=opens_at + timedelta(hours=window_hours) if window_hours else None,
                criteria=criteria,
                resident_postcodes=postcodes if criteria else "",
                seed=new_seed(),
                created_at=_at_0830(today),
            )
        ).returning(BookingPeriod.id)
        period_id = int(inserted[0]["id"])
        await BookingPeriodActivity.insert(
            *[BookingPeriodActivity(period=period_id, activity=a) for a in activity_ids]
        )
    return len(PERIODS)
