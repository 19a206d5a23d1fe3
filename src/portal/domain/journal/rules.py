"""The journal (audit log) as a clerk reads it: actions, fields and values in French words.

Pure functions on the stored rows' plain values; the service loads the rows and resolves
which family and which page each entry concerns.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from portal.domain.family_file import rules as family_file_rules
from portal.domain.money_format import format_euros

# Kinds offered as a filter: label, and the actions they gather ("x.%" is every x action).
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "activites": (
        "Activités, tarifs et journées",
        ("activity.%", "tariff.%", "days.%", "day.%", "enrolment.set"),
    ),
    "decisions": ("Décisions", ("decision.%",)),
    "presences": ("Présences", ("attendance.%",)),
    "reglements": ("Règlements", ("payment.%",)),
    "actualites": ("Actualités", ("news.%",)),
    "familles": ("Familles et comptes", ("family.%", "account.%")),
    "dossiers": ("Dossiers et documents", ("document.%", "file.%")),
    "inscriptions": ("Inscriptions", ("enrolment.accept", "enrolment.refuse", "enrolment.offer")),
    "regie": ("Régie, relances et prélèvements", ("papers.%", "reminders.%", "sepa.%")),
    "transmission": ("Transmission", ("transmission.%",)),
    "personnel": ("Comptes du personnel", ("staff.%",)),
    "admin": ("Tables brutes (/admin)", ("admin.%",)),
}

ACTIONS: dict[str, str] = {
    "activity.create": "Activité créée",
    "activity.update": "Activité modifiée",
    "tariff.set": "Tarif enregistré",
    "enrolment.set": "Inscriptions à l'activité modifiées",
    "days.generate": "Journées générées",
    "day.open": "Journée ouverte",
    "day.close": "Journée fermée",
    "day.capacity": "Capacité de la journée modifiée",
    "day.promote": "Liste d'attente promue",
    "decision.accept": "Demande acceptée",
    "decision.refuse": "Demande refusée",
    "attendance.mark": "Présence notée",
    "payment.record": "Règlement enregistré",
    "news.create": "Actualité publiée",
    "news.update": "Actualité modifiée",
    "news.withdraw": "Actualité retirée",
    "family.file_complete": "Dossier marqué complet ou incomplet",
    "family.import": "Famille importée",
    "account.reset": "Nouveau mot de passe initial de la famille",
    "account.add_login": "Identifiant de connexion ajouté",
    "document.view": "Document consulté",
    "document.validate": "Document validé",
    "document.refuse": "Document refusé",
    "file.change_validate": "Modification du dossier validée",
    "file.change_refuse": "Modification du dossier refusée",
    "file.health_list": "Liste santé consultée",
    "kitchen.health_view": "Liste nominative de la cuisine consultée",
    "absence.certificate_view": "Justificatif d'absence consulté",
    "file.health_view": "Fiche santé consultée",
    "period.health_view": "Critères de santé d'une attribution consultés",
    "file.contact_edit": "Coordonnées modifiées",
    "file.child_edit": "Fiche enfant modifiée",
    "enrolment.accept": "Inscription acceptée",
    "enrolment.refuse": "Inscription refusée",
    "enrolment.offer": "Offre d'inscription modifiée",
    "papers.letterhead": "En-tête des documents modifié",
    "papers.categories": "Catégories fiscales modifiées",
    "reminders.settings": "Réglages des relances modifiés",
    "reminders.template": "Modèle de relance modifié",
    "reminders.email": "Relance envoyée par e-mail",
    "reminders.letter": "Lettre de relance imprimée",
    "sepa.creditor": "Créancier SEPA modifié",
    "sepa.paper_mandate": "Mandat papier enregistré",
    "sepa.run": "Prélèvement préparé",
    "sepa.post": "Prélèvement comptabilisé",
    "sepa.reject": "Rejet de prélèvement enregistré",
    "transmission.run": "Transmission lancée",
    "staff.create": "Compte du personnel créé",
    "staff.update": "Compte du personnel modifié",
    "staff.disable": "Compte du personnel désactivé",
    "staff.enable": "Compte du personnel réactivé",
    "staff.reset": "Nouveau mot de passe initial du personnel",
    "admin.create": "Ligne créée dans les tables brutes",
    "admin.update": "Ligne modifiée dans les tables brutes",
    "admin.delete": "Ligne supprimée dans les tables brutes",
}

FIELDS: dict[str, str] = {
    "status": "état",
    "waitlist_rank": "rang en liste d'attente",
    "movement": "mouvement",
    "capacity": "capacité",
    "waitlist_capacity": "places en liste d'attente",
    "presence": "présence",
    "family": "famille",
    "wallet": "porte-monnaie",
    "mode": "mode",
    "amount_cents": "montant",
    "unit_price_cents": "prix unitaire",
    "piece_number": "n° de pièce",
    "payer_name": "payeur",
    "bank_name": "banque",
    "entry_date": "date",
    "title": "titre",
    "body": "texte",
    "visible_from": "visible à partir du",
    "visible_to": "visible jusqu'au",
    "file_complete": "dossier complet",
    "must_change_password": "mot de passe à changer",
    "password": "mot de passe",
    "name": "nom",
    "display_name": "nom",
    "band": "tranche",
    "login": "identifiant",
    "people": "enfants",
    "is_open": "ouverte",
    "is_admin": "administrateur",
    "disabled": "désactivé",
    "roles": "rôles",
    "valid_from": "à partir du",
    "activity": "activité",
    "from": "du",
    "to": "au",
    "weekdays": "jours de la semaine",
    "created": "journées créées",
    "added": "ajoutés",
    "removed": "retirés",
    "summary": "résumé",
    "at": "à",
    "start_time": "début",
    "end_time": "fin",
    "booking_deadline": "délai de réservation",
    "cancel_deadline": "délai d'annulation",
    "needs_decision": "décision du personnel",
    "reason": "motif",
}

WORDS: dict[str, dict[str, str]] = {
    "status": {
        "accepted": "acceptée",
        "waitlisted": "en liste d'attente",
        "pending": "en attente de décision",
        "refused": "refusée",
        "cancelled": "annulée",
    },
    "presence": {
        "present": "présent",
        "absent": "absent (facturé)",
        "justifie": "absence justifiée (non facturée)",
    },
    "mode": {
        "CB": "carte bancaire",
        "CHEQUE": "chèque",
        "ESPECES": "espèces",
        "PRELEVEMENT": "prélèvement",
        "VIREMENT": "virement",
    },
    "roles": {
        "agent": "agent",
        "regisseur": "régisseur",
        "direction": "direction",
    },
}

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
EMPTY = "(vide)"
MAX_TEXT = 160


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)


def field_label(key: str) -> str:
    label = FIELDS.get(key) or family_file_rules.FIELD_LABELS.get(key)
    return label or key.replace("_", " ")


def when_text(instant: datetime, tz: ZoneInfo) -> str:
    """ "01/12/2026 à 19:10", in the structure's time zone."""
    return instant.astimezone(tz).strftime("%d/%m/%Y à %H:%M")


def value_text(key: str, value: Any, tz: ZoneInfo) -> str:
    """One stored value as words: booleans, amounts, dates, known codes."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key.endswith("_cents") and isinstance(value, int):
        return format_euros(value)
    if key == "weekdays" and isinstance(value, list):
        return ", ".join(
            WEEKDAYS[v] if isinstance(v, int) and 0 <= v < 7 else str(v) for v in value
        )
    if isinstance(value, list):
        return ", ".join(value_text(key, v, tz) for v in value)
    if isinstance(value, dict):
        # Keys that are not fields (structure names under "roles") read as their parent.
        return " ; ".join(
            f"{field_label(k)} : {value_text(k if k in FIELDS else key, v, tz)}"
            for k, v in value.items()
        )
    if isinstance(value, str):
        words = WORDS.get(key)
        if words is not None:
            if key == "roles":
                return ", ".join(words.get(w, w) for w in value.split(",") if w) or EMPTY
            if value in words:
                return words[value]
        return _date_text(value, tz) or _cut(value)
    return _cut(str(value))


def _date_text(text: str, tz: ZoneInfo) -> str | None:
    """ISO dates and instants (as the log stores them) in French, else None."""
    if not (10 <= len(text) <= 32 and text[:4].isdigit() and text[4:5] == "-"):
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text).strftime("%d/%m/%Y")
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    if instant.tzinfo is None:
        return instant.strftime("%d/%m/%Y à %H:%M")
    return when_text(instant, tz)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


HIDDEN = "(donnée de santé masquée)"


def changes(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    tz: ZoneInfo,
    hidden: Container[str] = (),
) -> list[Change]:
    """Before -> after per field, in the order the entry wrote them; the values of the
    ``hidden`` fields (health data, for a reader without health access) are masked."""
    keys = list(after) + [k for k in before if k not in after]

    def shown(key: str, values: Mapping[str, Any]) -> str:
        if key not in values:
            return ""
        return HIDDEN if key in hidden else value_text(key, values[key], tz)

    return [Change(field_label(key), shown(key, before), shown(key, after)) for key in keys]


def kind_patterns(kind: str | None) -> tuple[str, ...]:
    """The action patterns of a kind filter; () when none or unknown (no filter)."""
    return KINDS[kind][1] if kind in KINDS else ()


def kind_of(action: str) -> str | None:
    for key, (_, patterns) in KINDS.items():
        for pattern in patterns:
            if (pattern.endswith("%") and action.startswith(pattern[:-1])) or action == pattern:
                return key
    return None
