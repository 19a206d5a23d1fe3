"""Tariffs: the unit price of an activity day for a tariff band.

The price of a day is the tariff in force on that day: among the activity's tariffs for the
band, the one with the latest ``valid_from`` on or before the day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from portal.clock import as_date
from portal.domain.money.rules import price_in_force
from portal.tables import Tariff

__all__ = ["TariffBook", "load_tariffs", "price_in_force", "unit_price_cents"]


class TariffBook:
    """Tariffs of some activities, loaded once, for many days (pure lookups)."""

    def __init__(self, rows: Iterable[tuple[int, str, date, int]] = ()) -> None:
        self._by_key: dict[tuple[int, str], list[tuple[date, int]]] = defaultdict(list)
        for activity_id, band, valid_from, price in rows:
            self._by_key[(activity_id, band)].append((valid_from, price))

    def price(self, activity_id: int, band: str, day: date) -> int | None:
        return price_in_force(self._by_key.get((activity_id, band), ()), day)


async def load_tariffs(activity_ids: Iterable[int]) -> TariffBook:
    """Every tariff (all bands, all dates) of the given activities."""
    ids = sorted(set(activity_ids))
    if not ids:
        return TariffBook()
    rows = await Tariff.select(
        Tariff.activity, Tariff.band, Tariff.valid_from, Tariff.unit_price_cents
    ).where(Tariff.activity.is_in(ids))
    return TariffBook(
        (int(r["activity"]), str(r["band"]), as_date(r["valid_from"]), int(r["unit_price_cents"]))
        for r in rows
    )


async def unit_price_cents(activity_id: int, band: str, day: date) -> int | None:
    """The unit price in force on ``day`` for ``band`` (None when no tariff applies yet)."""
    row = (
        await Tariff.select(Tariff.unit_price_cents)
        .where(
            (Tariff.activity == activity_id) & (Tariff.band == band) & (Tariff.valid_from <= day)
        )
        .order_by(Tariff.valid_from, ascending=False)
        .first()
    )
    return None if row is None else int(row["unit_price_cents"])
