"""News rules on plain values: the agent's form and a news item's display state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from portal.domain.form_fields import FormError, field_text, parse_local_datetime


@dataclass(frozen=True)
class NewsValues:
    title: str
    body: str
    visible_from: datetime | None
    visible_to: datetime | None


def parse_news_form(data: Mapping[str, object], tz: ZoneInfo) -> NewsValues:
    errors: list[str] = []
    title = field_text(data, "titre", 200)
    body = field_text(data, "texte", 20_000).replace("\r\n", "\n")
    if not title:
        errors.append("Le titre est obligatoire.")
    if not body:
        errors.append("Le texte est obligatoire.")
    visible_from = visible_to = None
    try:
        visible_from = parse_local_datetime(
            field_text(data, "visible_du", 20), tz, "Début d'affichage"
        )
        visible_to = parse_local_datetime(field_text(data, "visible_au", 20), tz, "Fin d'affichage")
        if visible_from and visible_to and visible_to <= visible_from:
            errors.append("La fin d'affichage doit être après le début.")
    except ValueError as exc:
        errors.append(str(exc))
    if errors:
        raise FormError(errors)
    return NewsValues(title, body, visible_from, visible_to)


def news_state(visible_from: datetime | None, visible_to: datetime | None, now: datetime) -> str:
    if visible_to is not None and visible_to <= now:
        return "Retirée"
    if visible_from is not None and visible_from > now:
        return "Programmée"
    return "En ligne"
