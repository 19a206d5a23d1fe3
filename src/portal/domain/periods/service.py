"""Booking periods for staff (create, edit, list) and for parents (the published rules).

Every query is scoped to the staff member's structure or to the parent's family."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from portal import clock
from portal.db import write_transaction
from portal.domain.booking.opening import OpeningPeriod, PeriodMode, period_of_row
from portal.domain.periods import rules
from portal.domain.periods.allocation import seed_commitment
from portal.domain.staff import audit
from portal.domain.staff.service import Actor
from portal.tables import Activity, BookingPeriod, BookingPeriodActivity, Family, PeriodRequest


class NotFound(LookupError):
    """No such period in this structure (or for this family)."""


@dataclass(frozen=True)
class PeriodDetail:
    period: OpeningPeriod
    structure_id: int
    criteria: tuple[rules.Criterion, ...]
    resident_postcodes: tuple[str, ...]
    seed: str
    activities: tuple[tuple[int, str], ...]
    allocation_started_at: datetime | None
    allocated_at: datetime | None
    waiting: int
    decided: int

    @property
    def commitment(self) -> str:
        return seed_commitment(self.seed)

    def seed_public(self, now: datetime) -> bool:
        """The seed itself is shown once requests can no longer be made."""
        end = self.period.window_ends_at
        return end is None or now >= end

    def published_rules(self, tz: ZoneInfo, now: datetime) -> list[rules.Paragraph]:
        p = self.period
        return rules.parent_rules(
            name=p.name,
            mode=p.mode,
            opens_at=p.opens_at,
            window_ends_at=p.window_ends_at if p.mode.has_window else None,
            first_day=p.first_day,
            last_day=p.last_day,
            activities=[name for _, name in self.activities],
            criteria=self.criteria if p.mode is PeriodMode.PRIORITY else (),
            postcodes=self.resident_postcodes,
            tz=tz,
            now=now,
        )


async def _detail(row: dict[str, object]) -> PeriodDetail:
    period_id = int(str(row["id"]))
    links = await (
        BookingPeriodActivity.select(
            BookingPeriodActivity.activity, BookingPeriodActivity.activity._.name
        )
        .where(BookingPeriodActivity.period == period_id)
        .order_by(BookingPeriodActivity.activity)
        .output(nested=False)
    )
    counts = await PeriodRequest.raw(
        "SELECT SUM(CASE WHEN status = 'waiting' THEN 1 ELSE 0 END) AS waiting, "
        "SUM(CASE WHEN status <> 'waiting' THEN 1 ELSE 0 END) AS decided "
        "FROM period_request WHERE period = {}",
        period_id,
    )
    started, allocated = row["allocation_started_at"], row["allocated_at"]
    return PeriodDetail(
        period=period_of_row(row, [int(link["activity"]) for link in links]),
        structure_id=int(str(row["structure"])),
        criteria=rules.parse_criteria(str(row["criteria"])),
        resident_postcodes=tuple(p for p in str(row["resident_postcodes"]).split(",") if p),
        seed=str(row["seed"]),
        activities=tuple((int(link["activity"]), str(link["activity.name"])) for link in links),
        allocation_started_at=started if isinstance(started, datetime) else None,
        allocated_at=allocated if isinstance(allocated, datetime) else None,
        waiting=int(counts[0]["waiting"] or 0) if counts else 0,
        decided=int(counts[0]["decided"] or 0) if counts else 0,
    )


async def structure_periods(structure_id: int) -> list[PeriodDetail]:
    """The structure's periods, latest opening first."""
    rows = (
        await BookingPeriod.select()
        .where(BookingPeriod.structure == structure_id)
        .order_by(BookingPeriod.opens_at, ascending=False)
    )
    return [await _detail(row) for row in rows]


async def period_for_structure(structure_id: int, period_id: int) -> PeriodDetail:
    row = await (
        BookingPeriod.select()
        .where((BookingPeriod.id == period_id) & (BookingPeriod.structure == structure_id))
        .first()
    )
    if row is None:
        raise NotFound(period_id)
    return await _detail(row)


async def period_for_family(family_id: int, period_id: int) -> PeriodDetail:
    """A period of the family's structure (the rules page of parents)."""
    family = await Family.select(Family.structure).where(Family.id == family_id).first()
    if family is None:
        raise NotFound(period_id)
    return await period_for_structure(int(family["structure"]), period_id)


async def structure_activities(structure_id: int) -> list[tuple[int, str]]:
    rows = await (
        Activity.select(Activity.id, Activity.name)
        .where((Activity.structure == structure_id) & (Activity.active == True))  # noqa: E712
        .order_by(Activity.position)
        .order_by(Activity.id)
    )
    return [(int(r["id"]), str(r["name"])) for r in rows]


def _values(settings: rules.PeriodSettings) -> dict[str, Any]:
    return {
        "name": settings.name.strip()[:200],
        "first_day": settings.first_day,
        "last_day": settings.last_day,
        "opens_at": settings.opens_at,
        "mode": settings.mode.value,
        "window_ends_at": settings.window_ends_at if settings.mode.has_window else None,
        "criteria": ",".join(c.value for c in settings.criteria),
        "resident_postcodes": ",".join(settings.resident_postcodes),
    }


async def save_period(
    actor: Actor,
    structure_id: int,
    settings: rules.PeriodSettings,
    period_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Create or change a period; its rules are frozen once it has opened."""
    now = now or clock.utcnow()
    errors = rules.check_settings(settings)
    allowed = set(dict(await structure_activities(structure_id)))
    if not set(settings.activity_ids) <= allowed:
        errors.append("Une des activités choisies n'appartient pas à cette structure.")
    if errors:
        raise rules.PeriodError(" ".join(errors))
    values = _values(settings)
    async with write_transaction():
        if period_id is None:
            inserted = await BookingPeriod.insert(
                BookingPeriod(
                    structure=structure_id, seed=rules.new_seed(), created_at=now, **values
                )
            ).returning(BookingPeriod.id)
            period_id = int(inserted[0]["id"])
            before: dict[str, Any] = {}
        else:
            current = await (
                BookingPeriod.select()
                .where((BookingPeriod.id == period_id) & (BookingPeriod.structure == structure_id))
                .first()
            )
            if current is None:
                raise NotFound(period_id)
            if current["opens_at"] <= now:
                raise rules.PeriodError(
                    "Cette période est ouverte : ses règles, publiées aux familles, ne "
                    "peuvent plus changer."
                )
            before = {k: current[k] for k in values}
            await BookingPeriod.update(values).where(BookingPeriod.id == period_id)  # type: ignore[arg-type]
            await BookingPeriodActivity.delete().where(BookingPeriodActivity.period == period_id)
        await BookingPeriodActivity.insert(
            *[
                BookingPeriodActivity(period=period_id, activity=a)
                for a in sorted(set(settings.activity_ids))
            ]
        )
        await audit.record(
            actor,
            "période de réservation",
            structure_id=structure_id,
            table="booking_period",
            target_id=period_id,
            before=before,
            after={**values, "activities": sorted(settings.activity_ids)},
        )
    return period_id
