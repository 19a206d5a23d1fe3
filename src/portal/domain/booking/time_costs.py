"""What shared times cost, day by day, before they go into the basket (time-entry activities)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from portal.domain.booking.scope import ActivityInfo, BookingScope
from portal.domain.booking.tracking import item_quantity
from portal.domain.money.pricing import load_tariffs


@dataclass(frozen=True)
class DayCost:
    day: date
    quantity: int
    cost_cents: int | None  # None: no tariff in force that day


@dataclass(frozen=True)
class TimesCost:
    days: list[DayCost]

    @property
    def total_cents(self) -> int:
        return sum(d.cost_cents or 0 for d in self.days)

    @property
    def complete(self) -> bool:
        """Every day has a price (otherwise the total is a lower bound)."""
        return all(d.cost_cents is not None for d in self.days)


async def times_cost(
    scope: BookingScope,
    activity: ActivityInfo,
    days: Sequence[date],
    arrival: time | None,
    departure: time | None,
) -> TimesCost:
    """The billed quantity and cost of each day for these times, and their total."""
    tariffs = await load_tariffs([activity.id])
    quantity = item_quantity(activity, arrival, departure)
    return TimesCost(
        [
            DayCost(
                day,
                quantity,
                None
                if (unit := tariffs.price(activity.id, scope.tariff_band, day)) is None
                else unit * quantity,
            )
            for day in days
        ]
    )
