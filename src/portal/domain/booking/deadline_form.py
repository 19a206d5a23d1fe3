"""Deadlines as French form fields: staff choose "N jours avant à HH:MM", "N jours ouvrés
avant à HH:MM" or "le <jour> de la semaine précédente à HH:MM"; the stored form stays the
code of `deadlines` (``days:2@10:00``), composed and parsed here.

Each deadline field ``<prefix>`` of a form becomes four fields: ``<prefix>_type``,
``<prefix>_jours``, ``<prefix>_jour`` and ``<prefix>_heure``. A form that sends the code
itself (an older page, a script) is still read as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from typing import Any

from portal.domain.booking.deadlines import (
    MAX_DAYS_BEFORE,
    WEEKDAY_NAMES_FR,
    DeadlineKind,
    DeadlineRule,
    format_rule,
    parse_rule,
)

KINDS: dict[str, tuple[str, DeadlineKind]] = {
    "jours": ("jours avant le jour réservé", DeadlineKind.CALENDAR_DAYS),
    "jours_ouvres": (
        "jours ouvrés avant (sans week-ends ni jours fériés)",
        DeadlineKind.WORKING_DAYS,
    ),
    "semaine_precedente": ("jour de la semaine précédente", DeadlineKind.PREVIOUS_WEEK),
}
SUFFIXES = ("_type", "_jours", "_jour", "_heure")
WEEKDAYS = tuple(name.capitalize() for name in WEEKDAY_NAMES_FR)
# A valid code standing in for a deadline whose fields were wrong (their error is reported).
PLACEHOLDER = "days:0@00:00"


def fields_of(code: str) -> dict[str, str]:
    """The four fields showing a stored code (a broken one shows the defaults)."""
    try:
        rule = parse_rule(code)
    except ValueError:
        rule = DeadlineRule.calendar_days(2, time(10, 0))
    kind = next(key for key, (_, k) in KINDS.items() if k is rule.kind)
    return {
        "type": kind,
        "jours": str(rule.days_before) if rule.kind is not DeadlineKind.PREVIOUS_WEEK else "2",
        "jour": str(rule.weekday if rule.weekday is not None else 3),
        "heure": f"{rule.at.hour:02d}:{rule.at.minute:02d}",
    }


def submitted_fields(data: Mapping[str, Any], prefix: str) -> dict[str, str] | None:
    """The four fields as sent (to show them again beside an error), or None if absent."""
    if f"{prefix}_type" not in data:
        return None
    return {suffix[1:]: _text(data.get(prefix + suffix))[:20] for suffix in SUFFIXES}


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "").strip()


def compose(fields: Mapping[str, str], label: str) -> str:
    """The stored code of the fields; ValueError with a French message otherwise."""
    kind = KINDS.get(fields.get("type", ""))
    if kind is None:
        raise ValueError(f"{label} : choisissez le type de délai.")
    at = _time(fields.get("heure", ""), label)
    if kind[1] is DeadlineKind.PREVIOUS_WEEK:
        weekday = fields.get("jour", "")
        if not (weekday.isascii() and weekday.isdigit() and 0 <= int(weekday) <= 6):
            raise ValueError(f"{label} : choisissez le jour de la semaine précédente.")
        return format_rule(DeadlineRule.previous_week(int(weekday), at))
    days = fields.get("jours", "")
    if not (days.isascii() and days.isdigit() and len(days) <= 3 and int(days) <= MAX_DAYS_BEFORE):
        raise ValueError(
            f"{label} : le nombre de jours doit être un entier de 0 à {MAX_DAYS_BEFORE}."
        )
    return format_rule(DeadlineRule(kind[1], at, days_before=int(days)))


def _time(text: str, label: str) -> time:
    match = re.fullmatch(r"(\d{1,2})[:hH](\d{2})", text)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{label} : indiquez l'heure limite, par exemple 10:00.")
    return time(int(match[1]), int(match[2]))


def with_codes(
    data: Mapping[str, Any], labels: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The form's data with each deadline's code composed from its fields, and the errors.

    A deadline whose fields are wrong gets a placeholder code so that the rest of the form
    is still checked; its error comes first in the list.
    """
    result = dict(data)
    errors: list[str] = []
    for prefix, label in labels.items():
        fields = submitted_fields(data, prefix)
        if fields is None:
            continue
        try:
            result[prefix] = compose(fields, label)
        except ValueError as exc:
            errors.append(str(exc))
            result[prefix] = PLACEHOLDER
    return result, errors
