"""Activities as staff configure them: settings, tariffs, enrolments, days and capacities.

Every function takes the structure id the staff member works in and filters on it: an id
from another structure is NotFound, exactly like an id that does not exist.
"""

from __future__ import annotations

import logging
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from portal import clock
from portal.db import write_transaction
from portal.domain.booking.apply import promote_waitlist
from portal.domain.form_fields import FormError
from portal.domain.staff import audit
from portal.domain.staff.archive import refuse_archived, refuse_if_archived
from portal.domain.staff.rules import ActivityValues, TariffValues, capacity_error, waitlist_error
from portal.domain.staff.schedule import Schedule, plan_days
from portal.domain.staff.service import Actor, NotFound
from portal.tables import (
    Activity,
    ActivityDay,
    Enrollment,
    Family,
    Person,
    Tariff,
    WalletType,
)

log = logging.getLogger(__name__)

ACTIVITY_FIELDS = (
    "name", "wallet_type", "color", "start_time", "end_time", "capacity",
    "waitlist_capacity", "needs_decision", "booking_opens_at", "booking_deadline",
    "cancellation_deadline", "time_entry", "allowed_arrivals", "allowed_departures",
    "billing_unit_minutes", "position", "active",
)  # fmt: skip


def _snapshot(row: Activity) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ACTIVITY_FIELDS}


async def activities(structure_id: int) -> list[Activity]:
    return await (
        Activity.objects()
        .where(Activity.structure == structure_id)
        .order_by(Activity.position)
        .order_by(Activity.name)
    )


async def activity_in(structure_id: int, activity_id: int) -> Activity:
    row = await Activity.objects().get(
        (Activity.id == activity_id) & (Activity.structure == structure_id)
    )
    if row is None:
        raise NotFound(f"activité {activity_id}")
    return row


async def wallet_types(structure_id: int) -> list[WalletType]:
    return await (
        WalletType.objects()
        .where(WalletType.structure == structure_id)
        .order_by(WalletType.position)
        .order_by(WalletType.id)
    )


async def create_activity(actor: Actor, structure_id: int, values: ActivityValues) -> int:
    """A new activity of the structure; returns its id."""
    async with write_transaction():
        inserted = await Activity.insert(
            Activity(
                _data={
                    Activity.structure: structure_id,
                    **{getattr(Activity, k): v for k, v in values.as_row().items()},
                }
            )
        ).returning(Activity.id)
        activity_id = int(inserted[0]["id"])
        await audit.record(
            actor,
            "activity.create",
            structure_id=structure_id,
            table="activity",
            target_id=activity_id,
            after=values.as_row(),
        )
    return activity_id


async def update_activity(
    actor: Actor, structure_id: int, activity_id: int, values: ActivityValues
) -> None:
    """Change the settings; existing days keep their own capacity (edited per day)."""
    async with write_transaction():
        row = await activity_in(structure_id, activity_id)
        await refuse_archived(row)
        before = _snapshot(row)
        after = values.as_row()
        await Activity.update({getattr(Activity, k): v for k, v in after.items()}).where(
            (Activity.id == activity_id) & (Activity.structure == structure_id)
        )
        old, new = audit.changed(before, after)
        await audit.record(
            actor,
            "activity.update",
            structure_id=structure_id,
            table="activity",
            target_id=activity_id,
            before=old,
            after=new,
        )


# --- tariffs ---------------------------------------------------------------------------


async def tariffs(activity_id: int) -> list[Tariff]:
    return await (
        Tariff.objects()
        .where(Tariff.activity == activity_id)
        .order_by(Tariff.band)
        .order_by(Tariff.valid_from)
    )


async def set_tariff(
    actor: Actor, structure_id: int, activity_id: int, values: TariffValues
) -> None:
    """The price of a band from a date; the same band and date replaces the price."""
    async with write_transaction():
        await refuse_archived(await activity_in(structure_id, activity_id))
        existing = await Tariff.objects().get(
            (Tariff.activity == activity_id)
            & (Tariff.band == values.band)
            & (Tariff.valid_from == values.valid_from)
        )
        before: dict[str, Any] = {}
        if existing is None:
            inserted = await Tariff.insert(
                Tariff(
                    activity=activity_id,
                    band=values.band,
                    unit_price_cents=values.unit_price_cents,
                    valid_from=values.valid_from,
                )
            ).returning(Tariff.id)
            tariff_id = int(inserted[0]["id"])
        else:
            tariff_id = int(existing.id)
            before = {"unit_price_cents": existing.unit_price_cents}
            await Tariff.update({Tariff.unit_price_cents: values.unit_price_cents}).where(
                Tariff.id == tariff_id
            )
        await audit.record(
            actor,
            "tariff.set",
            structure_id=structure_id,
            table="tariff",
            target_id=tariff_id,
            before=before,
            after={
                "activity": activity_id,
                "band": values.band,
                "unit_price_cents": values.unit_price_cents,
                "valid_from": values.valid_from,
            },
        )


# --- enrolments ------------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentChoice:
    person_id: int
    label: str
    family: str
    enrolled: bool


async def enrolment_choices(structure_id: int, activity_id: int) -> list[EnrolmentChoice]:
    await activity_in(structure_id, activity_id)
    people = await (
        Person.select(Person.id, Person.first_name, Person.last_name, Person.family._.name)
        .where(Person.family._.structure == structure_id)
        .output(nested=False)
    )
    enrolled = {
        int(r["person"])
        for r in await Enrollment.select(Enrollment.person).where(
            Enrollment.activity == activity_id
        )
    }
    choices = [
        EnrolmentChoice(
            int(p["id"]),
            f"{p['last_name']} {p['first_name']}",
            str(p["family.name"]),
            int(p["id"]) in enrolled,
        )
        for p in people
    ]
    return sorted(choices, key=lambda c: (c.family.casefold(), c.label.casefold()))


async def set_enrolments(
    actor: Actor, structure_id: int, activity_id: int, person_ids: set[int]
) -> tuple[int, int]:
    """Make exactly these people enrolled; returns (added, removed)."""
    async with write_transaction():
        await refuse_archived(await activity_in(structure_id, activity_id))
        if person_ids:
            known = {
                int(r["id"])
                for r in await Person.select(Person.id).where(
                    Person.id.is_in(sorted(person_ids))
                    & (Person.family._.structure == structure_id)
                )
            }
            if known != person_ids:
                raise NotFound("personne d'une autre structure")
        current = {
            int(r["person"])
            for r in await Enrollment.select(Enrollment.person).where(
                Enrollment.activity == activity_id
            )
        }
        added = sorted(person_ids - current)
        removed = sorted(current - person_ids)
        if added:
            await Enrollment.insert(
                *[Enrollment(person=p, activity=activity_id) for p in added]
            ).on_conflict(action="DO NOTHING")
        if removed:
            await Enrollment.delete().where(
                (Enrollment.activity == activity_id) & Enrollment.person.is_in(removed)
            )
        if added or removed:
            await audit.record(
                actor,
                "enrolment.set",
                structure_id=structure_id,
                table="enrollment",
                target_id=activity_id,
                before={"removed": removed},
                after={"added": added},
            )
    return len(added), len(removed)


# --- days ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationResult:
    created: tuple[date, ...]
    existing: tuple[date, ...]
    holidays: tuple[date, ...]
    closed: tuple[date, ...]


async def generate_days(
    actor: Actor, structure_id: int, activity_id: int, schedule: Schedule
) -> GenerationResult:
    """Create the schedule's days that do not exist yet; existing days are left untouched."""
    plan = plan_days(schedule)
    async with write_transaction():
        activity = await activity_in(structure_id, activity_id)
        await refuse_archived(activity)
        existing = {
            clock.as_date(r["day"])
            for r in await ActivityDay.select(ActivityDay.day).where(
                (ActivityDay.activity == activity_id)
                & (ActivityDay.day >= schedule.first)
                & (ActivityDay.day <= schedule.last)
            )
        }
        new_days = [d for d in plan.dates if d not in existing]
        created: list[date] = []
        if new_days:
            # The unique (activity, day) index settles a concurrent generation.
            rows = await (
                ActivityDay.insert(
                    *[
                        ActivityDay(
                            activity=activity_id,
                            day=d,
                            is_open=True,
                            capacity=activity.capacity,
                            waitlist_capacity=activity.waitlist_capacity,
                        )
                        for d in new_days
                    ]
                )
                .on_conflict(action="DO NOTHING")
                .returning(ActivityDay.day)
            )
            created = sorted(clock.as_date(r["day"]) for r in rows)
            await audit.record(
                actor,
                "days.generate",
                structure_id=structure_id,
                table="activity_day",
                target_id=activity_id,
                after={
                    "from": schedule.first,
                    "to": schedule.last,
                    "weekdays": sorted(schedule.weekdays),
                    "created": created,
                },
            )
    return GenerationResult(
        tuple(created),
        tuple(sorted(d for d in plan.dates if d in existing)),
        plan.holidays,
        plan.closed,
    )


async def month_days(
    structure_id: int, activity_id: int, year: int, month: int
) -> list[ActivityDay]:
    await activity_in(structure_id, activity_id)
    first = date(year, month, 1)
    last = date(year, month, monthrange(year, month)[1])
    return await (
        ActivityDay.objects()
        .where(
            (ActivityDay.activity == activity_id)
            & (ActivityDay.day >= first)
            & (ActivityDay.day <= last)
        )
        .order_by(ActivityDay.day)
    )


async def day_in(structure_id: int, day_id: int) -> ActivityDay:
    row = await ActivityDay.objects().get(
        (ActivityDay.id == day_id) & (ActivityDay.activity._.structure == structure_id)
    )
    if row is None:
        raise NotFound(f"journée {day_id}")
    return row


async def set_day_open(actor: Actor, structure_id: int, day_id: int, is_open: bool) -> None:
    """Open or close a day for new requests (existing reservations are kept)."""
    async with write_transaction():
        day = await day_in(structure_id, day_id)
        await refuse_if_archived(day_id=day_id)
        if day.is_open == is_open:
            return
        await ActivityDay.update({ActivityDay.is_open: is_open}).where(ActivityDay.id == day_id)
        await audit.record(
            actor,
            "day.open" if is_open else "day.close",
            structure_id=structure_id,
            table="activity_day",
            target_id=day_id,
            before={"is_open": day.is_open},
            after={"is_open": is_open},
        )


async def set_day_capacity(
    actor: Actor,
    structure_id: int,
    day_id: int,
    capacity: int | None,
    waitlist_capacity: int | None,
    now: datetime | None = None,
) -> list[int]:
    """Change a day's capacities; a raise promotes the waitlist. Returns promotion movements.

    Raises FormError (French) when a capacity would fall below what is already taken.
    """
    now = now or clock.utcnow()
    async with write_transaction():
        day = await day_in(structure_id, day_id)
        await refuse_if_archived(day_id=day_id)
        problems = [
            p
            for p in (
                capacity_error(capacity, day.accepted_count),
                waitlist_error(waitlist_capacity, day.waitlisted_count),
            )
            if p
        ]
        if problems:
            raise FormError(problems)
        # Conditional, like the booking service's counters: a place taken meanwhile wins.
        sql = "UPDATE activity_day SET capacity = {}, waitlist_capacity = {} WHERE id = {}"
        args: list[Any] = [capacity, waitlist_capacity, day_id]
        if capacity is not None:
            sql += " AND accepted_count <= {}"
            args.append(capacity)
        if waitlist_capacity is not None:
            sql += " AND waitlisted_count <= {}"
            args.append(waitlist_capacity)
        updated = await ActivityDay.raw(sql + " RETURNING id", *args)
        if not updated:
            raise FormError(["Des places ont été prises entre-temps : rechargez la page."])
        await audit.record(
            actor,
            "day.capacity",
            structure_id=structure_id,
            table="activity_day",
            target_id=day_id,
            before={"capacity": day.capacity, "waitlist_capacity": day.waitlist_capacity},
            after={"capacity": capacity, "waitlist_capacity": waitlist_capacity},
        )
        promoted: list[int] = []
        raised = capacity is None or (day.capacity is not None and capacity > day.capacity)
        if raised and day.waitlisted_count:
            promoted = await promote_waitlist(day_id, now, actor="staff")
            if promoted:
                await audit.record(
                    actor,
                    "day.promote",
                    structure_id=structure_id,
                    table="movement",
                    target_id=day_id,
                    after={"promotion_movements": promoted},
                )
    return promoted


async def family_names(structure_id: int) -> dict[int, str]:
    rows = await Family.select(Family.id, Family.name).where(Family.structure == structure_id)
    return {int(r["id"]): str(r["name"]) for r in rows}
