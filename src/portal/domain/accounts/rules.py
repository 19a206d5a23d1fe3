"""Account rules on plain values: password policy, e-mail lists, lockout."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from portal.domain.french_dates import long_date

MIN_LENGTH_WITH_CLASSES = 12
MIN_LENGTH_ANY = 15
# Versions of the texts shown at first login; a new version asks every account again.
RGPD_VERSION = "2026-01"
CGU_VERSION = "2026-01"

PASSWORD_RULES_TEXT = [
    f"au moins {MIN_LENGTH_WITH_CLASSES} caractères mêlant minuscules, majuscules, "
    "chiffres et caractères spéciaux,",
    f"ou bien au moins {MIN_LENGTH_ANY} caractères de tout type (une phrase de passe),",
    "et ne pas être un mot de passe courant ni contenir votre identifiant.",
]

_EMAIL_RE = re.compile(r"^[^@\s;,<>\"]+@[^@\s;,<>\"]+\.[A-Za-z]{2,}$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("portal.data").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


@dataclass(frozen=True)
class PasswordCheck:
    has_lower: bool
    has_upper: bool
    has_digit: bool
    has_special: bool
    length: int
    is_common: bool
    contains_login: bool

    @property
    def class_count(self) -> int:
        return sum((self.has_lower, self.has_upper, self.has_digit, self.has_special))

    @property
    def long_enough(self) -> bool:
        return (
            self.length >= MIN_LENGTH_WITH_CLASSES and self.class_count == 4
        ) or self.length >= MIN_LENGTH_ANY

    @property
    def acceptable(self) -> bool:
        return self.long_enough and not self.is_common and not self.contains_login


def check_password(password: str, login: str = "") -> PasswordCheck:
    lowered = password.lower()
    return PasswordCheck(
        has_lower=any(c.islower() for c in password),
        has_upper=any(c.isupper() for c in password),
        has_digit=any(c.isdigit() for c in password),
        has_special=any(not c.isalnum() for c in password),
        length=len(password),
        is_common=lowered in common_passwords()
        or lowered.rstrip(string.digits + string.punctuation) in common_passwords(),
        contains_login=bool(login) and len(login) >= 3 and login.lower() in lowered,
    )


def password_errors(password: str, confirmation: str, login: str = "") -> list[str]:
    """French messages for every rule the new password breaks (empty when acceptable)."""
    errors: list[str] = []
    check = check_password(password, login)
    if not check.long_enough:
        if check.length < MIN_LENGTH_WITH_CLASSES:
            errors.append(
                f"Le mot de passe fait {check.length} caractère{'s' if check.length > 1 else ''} : "
                f"il en faut au moins {MIN_LENGTH_WITH_CLASSES} avec les quatre types, "
                f"ou {MIN_LENGTH_ANY} de tout type."
            )
        else:
            missing = [
                label
                for ok, label in (
                    (check.has_lower, "une minuscule"),
                    (check.has_upper, "une majuscule"),
                    (check.has_digit, "un chiffre"),
                    (check.has_special, "un caractère spécial"),
                )
                if not ok
            ]
            errors.append(
                "Il manque " + ", ".join(missing) + f" (ou allongez-le à {MIN_LENGTH_ANY} "
                "caractères au moins)."
            )
    if check.is_common:
        errors.append("Ce mot de passe fait partie des plus courants : choisissez-en un autre.")
    if check.contains_login:
        errors.append("Le mot de passe ne doit pas contenir votre identifiant.")
    if password != confirmation:
        errors.append("La confirmation ne correspond pas au mot de passe saisi.")
    return errors


def parse_emails(raw: str) -> tuple[list[str], list[str]]:
    """Split a ";"-separated list. Returns (addresses in order without duplicates, errors)."""
    addresses: list[str] = []
    errors: list[str] = []
    for part in raw.replace(",", ";").split(";"):
        address = part.strip()
        if not address:
            continue
        if len(address) > 254 or not _EMAIL_RE.match(address):
            errors.append(f"« {address} » n'est pas une adresse e-mail valide.")
        elif address.lower() not in (a.lower() for a in addresses):
            addresses.append(address)
    return addresses, errors


def join_emails(addresses: list[str]) -> str:
    return ";".join(addresses)


def split_emails(stored: str) -> list[str]:
    return [a for a in (p.strip() for p in stored.split(";")) if a]


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int
    lock_minutes: int

    def after_failure(self, failures_before: int, now: datetime) -> tuple[int, datetime | None]:
        """New failure count and, when the limit is reached, the end of the lock."""
        failures = failures_before + 1
        if failures >= self.max_failures:
            return failures, now + timedelta(minutes=self.lock_minutes)
        return failures, None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def minutes_left(locked_until: datetime, now: datetime) -> int:
    return max(1, -(-int((locked_until - now).total_seconds()) // 60))


def signature_moment(instant: datetime, tz_name: str) -> str:
    """ "mardi 1 décembre 2026 à 20:15", in the structure's time zone (rules signatures)."""
    local = instant.astimezone(ZoneInfo(tz_name))
    return f"{long_date(local.date())} à {local:%H:%M}"
