"""The families CSV that a structure imports once: read, checked line by line.

Nothing here touches the database: staff/families.py loads the structure's activities
and bands, and writes the families this returns when the file has no error.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from portal.domain.accounts import rules as account_rules
from portal.domain.form_fields import parse_date
from portal.domain.money.rules import TARIFF_BAND

MAX_IMPORT_LINES = 5_000

CSV_COLUMNS = {
    "famille": "nom de la famille (ex. « DUPONT Jean-Paul ») : les lignes de même nom "
    "forment une famille",
    "prenom": "prénom de l'enfant",
    "nom": "nom de l'enfant",
    "naissance": "date de naissance (JJ/MM/AAAA)",
    "tranche": "tranche tarifaire (A par défaut)",
    "emails": "adresses e-mail du compte, séparées par des virgules",
    "activites": "activités accessibles, séparées par « | »",
    "identifiant": "identifiant du compte (facultatif : généré sinon)",
    "dossier_complet": "oui ou non (oui par défaut)",
}
REQUIRED_COLUMNS = ("famille", "prenom", "nom")


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"Ligne {self.line} : {self.message}" if self.line else self.message


@dataclass(frozen=True)
class ImportedPerson:
    line: int
    first_name: str
    last_name: str
    birth_date: date | None
    activity_ids: tuple[int, ...]


@dataclass
class ImportedFamily:
    line: int  # first line of the family
    name: str
    band: str
    emails: list[str]
    login: str | None
    file_complete: bool
    people: list[ImportedPerson] = field(default_factory=list)


@dataclass(frozen=True)
class CsvImport:
    families: list[ImportedFamily]
    errors: list[LineError]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.families)


HEADER_ALIASES = {
    "e_mails": "emails",
    "email": "emails",
    "e_mail": "emails",
    "courriels": "emails",
    "date_de_naissance": "naissance",
    "quotient": "tranche",
    "quotient_familial": "tranche",
    "login": "identifiant",
    "activite": "activites",
    "dossier": "dossier_complet",
}


def _normalise_header(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z_]", "", plain.strip().lower().replace(" ", "_").replace("-", "_"))
    return HEADER_ALIASES.get(key, key)


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


_LOGIN = re.compile(r"^[A-Za-z0-9._@-]{3,150}$")


def parse_families_csv(
    text: str, activities: Mapping[str, int], bands: Iterable[str] | None = None
) -> CsvImport:
    """Read the families file (";" or "," separated, first line = column names).

    ``activities`` maps activity names (any case) to ids of the structure. Every problem is
    reported with its line number; a file with errors must import nothing.
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return CsvImport([], [LineError(0, "Le fichier est vide.")])
    if len(lines) > MAX_IMPORT_LINES + 1:
        return CsvImport([], [LineError(0, f"Au plus {MAX_IMPORT_LINES} lignes par import.")])
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [_normalise_header(h) for h in next(reader)]
    errors: list[LineError] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [h for h in header if h and h not in CSV_COLUMNS]
    if missing:
        errors.append(LineError(1, "colonne(s) manquante(s) : " + ", ".join(missing) + "."))
    if unknown:
        errors.append(LineError(1, "colonne(s) inconnue(s) : " + ", ".join(unknown) + "."))
    if errors:
        return CsvImport([], errors)
    known_bands = {b.upper() for b in bands} if bands is not None else None
    activity_keys = {_key(name): activity_id for name, activity_id in activities.items()}
    families: dict[str, ImportedFamily] = {}
    logins: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            errors.append(LineError(line, f"{len(row)} colonnes au lieu de {len(header)}."))
            continue
        values = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        problems: list[str] = []
        family_name = " ".join(values.get("famille", "").split())[:200]
        first_name = values.get("prenom", "")[:100]
        last_name = values.get("nom", "")[:100]
        if not family_name:
            problems.append("le nom de la famille est vide")
        if not first_name:
            problems.append("le prénom est vide")
        if not last_name:
            problems.append("le nom est vide")
        birth: date | None = None
        if values.get("naissance"):
            try:
                birth = parse_date(values["naissance"], "la date de naissance")
            except ValueError as exc:
                problems.append(str(exc).rstrip(".").replace("La date", "la date"))
        band = (values.get("tranche") or "A").upper()
        if not TARIFF_BAND.match(band) or (known_bands is not None and band not in known_bands):
            allowed = ", ".join(sorted(known_bands)) if known_bands else "A, B, C..."
            problems.append(f"tranche « {band} » inconnue ({allowed})")
        emails, email_errors = account_rules.parse_emails(
            values.get("emails", "").replace(" ", ",")
        )
        problems += [e.rstrip(".") for e in email_errors]
        activity_ids: list[int] = []
        for raw_name in values.get("activites", "").split("|"):
            if not raw_name.strip():
                continue
            found = activity_keys.get(_key(raw_name))
            if found is None:
                problems.append(f"activité « {raw_name.strip()} » inconnue")
            elif found not in activity_ids:
                activity_ids.append(found)
        login = values.get("identifiant") or None
        if login is not None and not _LOGIN.match(login):
            problems.append(
                f"identifiant « {login} » invalide (3 à 150 lettres, chiffres, . _ - @)"
            )
        complete_text = (values.get("dossier_complet") or "oui").lower()
        if complete_text not in ("oui", "non", "o", "n", "1", "0"):
            problems.append(f"dossier_complet « {complete_text} » : écrivez oui ou non")
        file_complete = complete_text in ("oui", "o", "1")
        if problems:
            errors.append(LineError(line, "; ".join(problems) + "."))
            continue
        key = _key(family_name)
        family = families.get(key)
        if family is None:
            family = ImportedFamily(line, family_name, band, emails, login, file_complete)
            families[key] = family
            if login is not None:
                if login.lower() in logins:
                    errors.append(
                        LineError(
                            line,
                            f"identifiant « {login} » déjà donné ligne {logins[login.lower()]}.",
                        )
                    )
                logins[login.lower()] = line
        else:
            conflicts = []
            if band != family.band and values.get("tranche"):
                conflicts.append("tranche")
            if emails and emails != family.emails:
                if family.emails:
                    conflicts.append("e-mails")
                else:
                    family.emails = emails
            if login is not None and login != family.login:
                conflicts.append("identifiant")
            if conflicts:
                errors.append(
                    LineError(
                        line,
                        f"{', '.join(conflicts)} différent(s) de la ligne {family.line} pour la "
                        f"famille « {family_name} ».",
                    )
                )
                continue
        person_key = (_key(first_name), _key(last_name), birth)
        if any((_key(p.first_name), _key(p.last_name), p.birth_date) == person_key
               for p in family.people):  # fmt: skip
            errors.append(LineError(line, f"{first_name} {last_name} apparaît deux fois."))
            continue
        family.people.append(
            ImportedPerson(line, first_name, last_name, birth, tuple(activity_ids))
        )
    if not families and not errors:
        errors.append(LineError(0, "Le fichier ne contient aucune ligne de données."))
    return CsvImport(list(families.values()), errors)
