"""Dates as French readers see them, in one place: pages, e-mails and exports agree."""

from __future__ import annotations

from datetime import date

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def long_date(day: date) -> str:
    """ "mercredi 2 décembre 2026"."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def short_date(day: date) -> str:
    """ "mer. 02/12/2026" (tables)."""
    return f"{WEEKDAYS[day.weekday()][:3]}. {day:%d/%m/%Y}"


def short_day(day: date) -> str:
    """ "lun. 15/05" (the seed e-mails)."""
    return f"{WEEKDAYS[day.weekday()][:3]}. {day:%d/%m}"


def month_label(year: int, month: int) -> str:
    """ "Décembre 2026"."""
    return f"{MONTHS[month - 1].capitalize()} {year}"


def parse_month(value: str | None, today: date) -> tuple[int, int]:
    """(year, month) from "2026-12"; anything unreadable means the current month."""
    if value:
        try:
            year, month = (int(part) for part in value.split("-", 1))
            if 2000 <= year <= 2100 and 1 <= month <= 12:
                return year, month
        except ValueError:
            pass
    return today.year, today.month
