"""What the printed "Suivi des réservations" says about its own selection (period, filters)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def period_label(start: date | None, end: date | None) -> str:
    if start and end:
        return f"du {_day(start)} au {_day(end)}"
    if start:
        return f"à partir du {_day(start)}"
    if end:
        return f"jusqu'au {_day(end)}"
    return "toutes les dates"


def filters_summary(
    *,
    start: date | None,
    end: date | None,
    person: str | None,
    activity: str | None,
    types: Sequence[str] | None,
    transmission: str | None,
) -> dict[str, str]:
    """Labels of the selection, for the print header; None means "no filter"."""
    return {
        "period_label": period_label(start, end),
        "person_label": person or "toutes",
        "activity_label": activity or "toutes",
        "types_label": ", ".join(types).lower() if types else "tous",
        "transmission_label": transmission.lower()
        if transmission
        else "transmises et non transmises",
    }
