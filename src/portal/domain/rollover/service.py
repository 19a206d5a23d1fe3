"""Roll a structure over to the next school year: its active activities are duplicated
with their tariffs (in force from the new year's first day) and enrolments, their days
generated from their weekly pattern without public holidays (and without the school
holidays of the structure's zone for activities that did not run in them), and the
previous year's activities archived (inactive: hidden from families, their register kept,
read-only for staff: portal.domain.staff.archive).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vacances_scolaires_france import SchoolHolidayDates, UnsupportedYearException

from portal import clock
from portal.db import write_transaction
from portal.domain.rollover import rules
from portal.domain.staff import audit
from portal.domain.staff.schedule import Schedule, plan_days
from portal.domain.staff.service import Actor
from portal.tables import (
    Activity,
    ActivityDay,
    BackOfficeSettings,
    Enrollment,
    Tariff,
)

COPIED = (
    "wallet_type", "name", "color", "start_time", "end_time", "capacity", "waitlist_capacity",
    "needs_decision", "booking_deadline", "cancellation_deadline", "time_entry",
    "allowed_arrivals", "allowed_departures", "billing_unit_minutes", "position",
)  # fmt: skip


class RolloverError(ValueError):
    """A rollover that cannot be done (the message is French)."""


@dataclass(frozen=True)
class PlannedActivity:
    activity_id: int
    name: str
    weekdays: frozenset[int]
    skips_holidays: bool
    days: tuple[date, ...]


async def zone_of(structure_id: int) -> str:
    row = await BackOfficeSettings.objects().get(BackOfficeSettings.structure == structure_id)
    return str(row.holiday_zone) if row else ""


async def save_zone(actor: Actor, structure_id: int, zone: str) -> None:
    if zone not in rules.ZONES:
        raise RolloverError("Choisissez la zone de vacances scolaires : A, B ou C.")
    async with write_transaction():
        before = await zone_of(structure_id)
        updated = (
            await BackOfficeSettings.update(
                {
                    BackOfficeSettings.holiday_zone: zone,
                    BackOfficeSettings.updated_at: clock.utcnow(),
                }
            )
            .where(BackOfficeSettings.structure == structure_id)
            .returning(BackOfficeSettings.id)
        )
        if not updated:
            await BackOfficeSettings.insert(
                BackOfficeSettings(structure=structure_id, holiday_zone=zone)
            )
        await audit.record(
            actor, "rollover.zone", structure_id=structure_id, table="back_office_settings",
            before={"zone": before}, after={"zone": zone},
        )  # fmt: skip


def school_holidays(first: date, last: date, zone: str) -> set[date]:
    """The zone's school holiday dates between two days (vacances-scolaires-france)."""
    dates = SchoolHolidayDates()
    found: set[date] = set()
    try:
        for year in range(first.year, last.year + 1):
            found |= set(dates.holidays_for_year_and_zone(year, zone))
    except UnsupportedYearException:
        raise RolloverError(
            "Les dates des vacances scolaires de cette année ne sont pas encore publiées."
        ) from None
    return {d for d in found if first <= d <= last}


async def plan(structure_id: int, first: date, last: date) -> list[PlannedActivity]:
    """What the rollover would create: per active activity, its pattern and new days."""
    zone = await zone_of(structure_id)
    if not zone:
        raise RolloverError("Indiquez d'abord la zone de vacances scolaires de la structure.")
    if not first < last or (last - first).days > 400:
        raise RolloverError("La nouvelle année doit durer au plus un an, fin après début.")
    old_first, old_last = rules.previous_year(first)
    old_holidays = school_holidays(old_first, old_last, zone)
    new_holidays = school_holidays(first, last, zone)
    activities = await (
        Activity.objects()
        .where((Activity.structure == structure_id) & (Activity.active == True))  # noqa: E712
        .order_by(Activity.position)
        .order_by(Activity.id)
    )
    planned = []
    for activity in activities:
        old_days = [
            clock.as_date(r["day"])
            for r in await ActivityDay.select(ActivityDay.day).where(
                (ActivityDay.activity == activity.id)
                & (ActivityDay.day >= old_first)
                & (ActivityDay.day <= old_last)
            )
        ]
        if not old_days:
            continue  # nothing this year: nothing to roll over
        skips = not rules.ran_in_holidays(old_days, old_holidays)
        schedule = Schedule(
            first, last, rules.weekdays_of(old_days),
            rules.closures(new_holidays) if skips else (),
        )  # fmt: skip
        planned.append(
            PlannedActivity(
                int(activity.id),
                str(activity.name),
                schedule.weekdays,
                skips,
                plan_days(schedule).dates,
            )
        )
    return planned


async def _days_from(structure_id: int, first: date) -> int:
    return int(
        await ActivityDay.count().where(
            (ActivityDay.day >= first) & (ActivityDay.activity._.structure == structure_id)
        )
    )


async def roll_over(actor: Actor, structure_id: int, first: date, last: date) -> int:
    """Do the rollover; returns how many activities were carried over (audited)."""
    if await _days_from(structure_id, first):
        raise RolloverError("Des journées existent déjà pour la nouvelle année : déjà reconduite ?")
    planned = await plan(structure_id, first, last)
    if not planned:
        raise RolloverError("Aucune activité de l'année en cours n'a de journées à reconduire.")
    async with write_transaction():
        if await _days_from(structure_id, first):  # a concurrent rollover got there first
            raise RolloverError(
                "Des journées existent déjà pour la nouvelle année : déjà reconduite ?"
            )
        for item in planned:
            old = await Activity.objects().get(Activity.id == item.activity_id)
            assert old is not None
            [row] = await Activity.insert(
                Activity(
                    structure=structure_id,
                    active=True,
                    **{name: getattr(old, name) for name in COPIED},
                )
            ).returning(Activity.id)
            new_id = int(row["id"])
            prices: dict[str, int] = {}
            for t in (
                await Tariff.objects()
                .where((Tariff.activity == old.id) & (Tariff.valid_from < first))
                .order_by(Tariff.valid_from)
            ):
                prices[str(t.band)] = int(t.unit_price_cents)  # the last in force wins
            if prices:
                await Tariff.insert(
                    *[
                        Tariff(activity=new_id, band=b, unit_price_cents=p, valid_from=first)
                        for b, p in sorted(prices.items())
                    ]
                )
            people = [
                int(r["person"])
                for r in await Enrollment.select(Enrollment.person).where(
                    Enrollment.activity == old.id
                )
            ]
            if people:
                await Enrollment.insert(*[Enrollment(person=p, activity=new_id) for p in people])
            if item.days:
                await ActivityDay.insert(
                    *[
                        ActivityDay(
                            activity=new_id,
                            day=d,
                            is_open=True,
                            capacity=old.capacity,
                            waitlist_capacity=old.waitlist_capacity,
                        )
                        for d in item.days
                    ]
                )
            await Activity.update(
                {Activity.active: False, Activity.archived_at: clock.utcnow()}
            ).where(Activity.id == old.id)
            await audit.record(
                actor, "rollover.activity", structure_id=structure_id, table="activity",
                target_id=new_id,
                after={"reprise de": old.id, "nom": old.name, "journées": len(item.days),
                       "tarifs": len(prices), "inscrits": len(people),
                       "vacances scolaires": "sautées" if item.skips_holidays else "gardées"},
            )  # fmt: skip
    return len(planned)
