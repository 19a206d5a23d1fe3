"""Booking periods' rules: the criteria a structure may rank, the scores of one request,
the checks of a period's settings, and the plain French shown to parents."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from portal.domain.booking.opening import PeriodMode, local_label
from portal.domain.criteria_values import text_of_values
from portal.domain.family_file.rules import HEALTH_FIELDS

MAX_DAYS = 366
MAX_WINDOW_DAYS = 31


class Criterion(StrEnum):
    """A priority the structure can rank, computed from data it holds."""

    RESIDENT = "resident"
    WORKING = "working"
    SIBLINGS = "siblings"
    DISABILITY = "disability"
    PAI = "pai"
    SPREAD = "spread"

    @property
    def label(self) -> str:
        return _LABELS[self][0]

    @property
    def explanation(self) -> str:
        return _LABELS[self][1]

    @property
    def less_is_better(self) -> bool:
        return self is Criterion.SPREAD

    @property
    def is_health(self) -> bool:
        """Its values are health data (RGPD art. 9): shown only with health access. A
        criterion named after a health field of the file is one (retention erases it by
        that name: family_file.privacy)."""
        return self.value in HEALTH_FIELDS


_LABELS = {
    Criterion.RESIDENT: (
        "Famille domiciliée dans la commune",
        "les familles dont l'adresse du dossier est dans la commune (codes postaux {postcodes}) "
        "passent avant les autres",
    ),
    Criterion.WORKING: (
        "Parents en activité professionnelle",
        "les familles dont les deux parents, ou le parent seul, travaillent passent avant les "
        "autres ; la structure l'a vérifié sur attestation d'employeur, encore valable le jour "
        "demandé",
    ),
    Criterion.SIBLINGS: (
        "Frère ou sœur déjà accepté ce jour-là",
        "un enfant dont un frère ou une sœur a déjà une place acceptée le même jour passe "
        "avant les autres",
    ),
    Criterion.DISABILITY: (
        "Enfant en situation de handicap",
        "un enfant dont la situation de handicap est reconnue (notification de la MDPH ou "
        "AEEH), vérifiée par la structure et en cours le jour demandé, passe avant les autres",
    ),
    Criterion.PAI: (
        "Enfant avec un projet d'accueil individualisé (PAI)",
        "un enfant dont le dossier indique un PAI en cours passe avant les autres",
    ),
    Criterion.SPREAD: (
        "Répartir les places entre les familles",
        "un jour compte d'autant moins que la famille a déjà obtenu ou demandé de jours sur "
        "la période (dans l'ordre des dates) : la 1re demande de chaque famille passe avant "
        "la 2e d'une autre",
    ),
}


class PeriodError(ValueError):
    """A period's settings that cannot be saved (the message is French)."""


def parse_criteria(text: str) -> tuple[Criterion, ...]:
    """« resident,spread » -> the ranked criteria, unknown codes and repeats dropped."""
    known = {c.value for c in Criterion}
    ranked: list[Criterion] = []
    for code in text.split(","):
        code = code.strip()
        if code in known and Criterion(code) not in ranked:
            ranked.append(Criterion(code))
    return tuple(ranked)


def parse_postcodes(text: str) -> tuple[str, ...]:
    codes = [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]
    for code in codes:
        if not (code.isdigit() and len(code) == 5):
            raise PeriodError(f"« {code[:10]} » n'est pas un code postal (5 chiffres).")
    return tuple(dict.fromkeys(codes))


def new_seed() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class PeriodSettings:
    name: str
    activity_ids: tuple[int, ...]
    first_day: date
    last_day: date
    opens_at: datetime
    mode: PeriodMode
    window_ends_at: datetime | None
    criteria: tuple[Criterion, ...]
    resident_postcodes: tuple[str, ...]


def check_settings(settings: PeriodSettings) -> list[str]:
    """Every reason (French) these settings cannot be saved; empty when they can."""
    errors = []
    if not settings.name.strip():
        errors.append("Donnez un nom à la période (par exemple « Vacances d'hiver 2027 »).")
    if not settings.activity_ids:
        errors.append("Choisissez au moins une activité.")
    if settings.last_day < settings.first_day:
        errors.append("Le dernier jour est avant le premier.")
    elif (settings.last_day - settings.first_day).days > MAX_DAYS:
        errors.append("Une période ne peut pas dépasser un an.")
    if settings.mode.has_window:
        end = settings.window_ends_at
        if end is None:
            errors.append("Indiquez la fin de la fenêtre de demandes.")
        elif end <= settings.opens_at:
            errors.append("La fin de la fenêtre doit être après l'ouverture.")
        elif (end - settings.opens_at).days > MAX_WINDOW_DAYS:
            errors.append("La fenêtre de demandes ne peut pas dépasser 31 jours.")
    if settings.mode is PeriodMode.PRIORITY and not settings.criteria:
        errors.append("Choisissez au moins un critère de priorité, dans l'ordre.")
    if Criterion.RESIDENT in settings.criteria and not settings.resident_postcodes:
        errors.append("Indiquez les codes postaux de la commune pour le critère de domicile.")
    return errors


@dataclass(frozen=True)
class RequestFacts:
    """What the structure knows of one request, for its scores."""

    resident: bool
    siblings_accepted: int
    pai: bool
    days_before: int  # days the family obtained or asked for earlier in the period
    parents_working: bool = False
    disability: bool = False


def criterion_value(criterion: Criterion, facts: RequestFacts) -> int:
    return {
        Criterion.RESIDENT: int(facts.resident),
        Criterion.WORKING: int(facts.parents_working),
        Criterion.SIBLINGS: facts.siblings_accepted,
        Criterion.DISABILITY: int(facts.disability),
        Criterion.PAI: int(facts.pai),
        Criterion.SPREAD: facts.days_before,
    }[criterion]


def scores(criteria: Sequence[Criterion], values: Sequence[int]) -> tuple[int, ...]:
    """Values turned into scores where higher is always better."""
    return tuple(-v if c.less_is_better else v for c, v in zip(criteria, values, strict=True))


def values_text(criteria: Iterable[Criterion], values: Iterable[int]) -> str:
    """« resident=1;spread=0 », as stored on the request."""
    return text_of_values((c.value, v) for c, v in zip(criteria, values, strict=True))


def spread_counts(
    requests: Iterable[tuple[int, int, date, int, int]], already: dict[int, int]
) -> dict[int, int]:
    """Request id -> days the family obtained (``already``: family -> accepted days) or
    asked for earlier in the period. Rows: (request id, family, day, person, activity day);
    a family's requests are counted in date order, then person, then activity day."""
    by_family: dict[int, list[tuple[date, int, int, int]]] = {}
    for request_id, family_id, day, person_id, day_id in requests:
        by_family.setdefault(family_id, []).append((day, person_id, day_id, request_id))
    counts = {}
    for family_id, rows in by_family.items():
        for index, (_, _, _, request_id) in enumerate(sorted(rows)):
            counts[request_id] = already.get(family_id, 0) + index
    return counts


# --- what parents read before the opening -------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of the published rules; ``items``: an ordered list that follows it
    (the ranked criteria, which read badly as one sentence on a phone)."""

    text: str
    items: tuple[str, ...] = ()

    def __str__(self) -> str:
        return " ".join((self.text, *(f"{i}. {item}" for i, item in enumerate(self.items, 1))))


def parent_rules(
    *,
    name: str,
    mode: PeriodMode,
    opens_at: datetime,
    window_ends_at: datetime | None,
    first_day: date,
    last_day: date,
    activities: Sequence[str],
    criteria: Sequence[Criterion],
    postcodes: Sequence[str],
    tz: ZoneInfo,
    now: datetime,
) -> list[Paragraph]:
    """The period's rules in plain French, one paragraph each; the opening's paragraph is
    told as of `now` (a parent reading the rules after the draw is not invited to prepare a
    basket)."""
    paragraphs = [
        Paragraph(
            f"« {name} » couvre "
            + (
                f"la journée du {first_day:%d/%m/%Y}"
                if first_day == last_day
                else f"les journées du {first_day:%d/%m/%Y} au {last_day:%d/%m/%Y}"
            )
            + f" des activités : {', '.join(activities) or 'aucune'}."
        ),
        Paragraph(_opening_sentence(opens_at, window_ends_at, tz, now)),
    ]
    if mode is PeriodMode.FIRST_COME or window_ends_at is None:
        paragraphs.append(
            Paragraph(
                "À l'ouverture, chaque demande validée est traitée dans l'ordre d'arrivée, "
                "comme d'habitude : acceptée s'il reste une place, sinon mise en liste "
                "d'attente s'il en reste une, sinon refusée."
            )
        )
        return paragraphs
    paragraphs.append(
        Paragraph(
            "Toutes les demandes validées entre l'ouverture et le "
            f"{local_label(window_ends_at, tz)} sont traitées ensemble à la fin de cette "
            "période de demandes : arriver le premier ne donne aucun avantage. Vos demandes "
            "ne retiennent aucune place d'ici là ; vous les voyez dans « Suivi », « en "
            "attente du tirage au sort »."
        )
    )
    if mode is PeriodMode.PRIORITY and criteria:
        postcode_list = ", ".join(postcodes) or "non renseignés"
        ranked = tuple(
            f"{c.label} : {c.explanation.format(postcodes=postcode_list)}." for c in criteria
        )
        paragraphs += [
            Paragraph(
                "Pour chaque journée, les demandes sont classées selon ces critères, dans cet "
                "ordre (le suivant départage les égalités du précédent) :",
                ranked,
            ),
            Paragraph("Les égalités qui restent sont départagées par un tirage au sort."),
        ]
    else:
        paragraphs.append(
            Paragraph("Pour chaque journée, les demandes sont classées par tirage au sort.")
        )
    paragraphs += [
        Paragraph(
            "Le tirage est vérifiable par tous : le numéro de tirage d'une demande est "
            "l'empreinte SHA-256 du texte « graine:numéro de l'enfant:numéro de la journée », "
            "et les demandes sont rangées par numéro croissant. L'empreinte de la graine est "
            "publiée avant l'ouverture, la graine elle-même à la fin de la période de demandes."
        ),
        Paragraph(
            "Dans ce classement, les premières demandes obtiennent les places libres, les "
            "suivantes les places de liste d'attente (dans cet ordre, qui est leur rang), les "
            "autres sont refusées. Chaque famille reçoit le résultat de toutes ses demandes "
            "par e-mail ; après l'attribution, les places restantes se réservent comme "
            "d'habitude."
        ),
    ]
    return paragraphs


def _opening_sentence(
    opens_at: datetime, window_ends_at: datetime | None, tz: ZoneInfo, now: datetime
) -> str:
    opens = local_label(opens_at, tz)
    if now < opens_at:
        return (
            "Vous pouvez préparer votre panier dès maintenant. Les réservations ouvrent le "
            f"{opens} ; rien n'est décidé avant."
        )
    if window_ends_at is None:
        return f"Les réservations sont ouvertes depuis le {opens}."
    if now < window_ends_at:
        return (
            f"Les demandes sont ouvertes depuis le {opens}, jusqu'au "
            f"{local_label(window_ends_at, tz)}."
        )
    return (
        f"Les demandes étaient ouvertes du {opens} au {local_label(window_ends_at, tz)} ; "
        "cette période de demandes est terminée."
    )
