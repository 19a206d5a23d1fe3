"""Account rules on plain values: password policy, e-mail lists, lockout."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo

from zxcvbn import zxcvbn

from portal.domain.french_dates import long_date

MIN_LENGTH_WITH_CLASSES = 12
MIN_LENGTH_ANY = 15
# ASVS 2.1.1/2.1.2: at least 12 characters, and up to 128 allowed (longer is refused when set).
MIN_LENGTH = 12
MAX_LENGTH = 128
# zxcvbn estimates how many guesses an attacker who knows common patterns needs. It prices
# every character it cannot explain (no word, keyboard run, repeat, date...) at 10 guesses,
# so a random 12-character password of the four kinds, CNIL's own example of an 80-bit
# password (délibération 2022-100), scores exactly 10^12. The bar is therefore 10^12:
# as hard to guess as CNIL's reference password, as zxcvbn measures it. (Asking 10^24,
# i.e. 80 bits read literally from zxcvbn's scale, would require 24 random characters.)
MIN_GUESSES_LOG10 = 12.0
# zxcvbn refuses longer input (its matching is quadratic); the rest of a longer password
# only adds to its strength.
_ESTIMATE_PREFIX = 72
# Versions of the texts shown at first login; a new version asks every account again.
RGPD_VERSION = "2026-01"
CGU_VERSION = "2026-01"

PASSWORD_RULES_TEXT = [
    f"entre {MIN_LENGTH} et {MAX_LENGTH} caractères,",
    "difficile à deviner : par exemple quatre mots sans rapport entre eux, ou des caractères "
    "variés sans suite logique (ni motif du clavier, ni répétition, ni date, ni mot courant "
    "suivi d'un chiffre),",
    "et ne pas contenir votre identifiant.",
]

# zxcvbn's feedback is in English: every message it can give, in French.
ZXCVBN_FRENCH = {
    "Use a few words, avoid common phrases.": (
        "Utilisez quelques mots, en évitant les expressions courantes."
    ),
    "No need for symbols, digits, or uppercase letters.": (
        "Inutile d'ajouter symboles, chiffres ou majuscules."
    ),
    "Add another word or two. Uncommon words are better.": (
        "Ajoutez un mot ou deux, de préférence peu courants."
    ),
    "Straight rows of keys are easy to guess.": (
        "Les rangées de touches du clavier se devinent facilement."
    ),
    "Short keyboard patterns are easy to guess.": (
        "Les motifs courts du clavier se devinent facilement."
    ),
    "Use a longer keyboard pattern with more turns.": (
        "Évitez les motifs du clavier, ou prenez-en un bien plus long et plus tortueux."
    ),
    'Repeats like "aaa" are easy to guess.': (
        "Les répétitions comme « aaa » se devinent facilement."
    ),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        "Les répétitions comme « abcabcabc » ne sont guère plus dures à deviner que « abc »."
    ),
    "Avoid repeated words and characters.": "Évitez de répéter des mots ou des caractères.",
    'Sequences like "abc" or "6543" are easy to guess.': (
        "Les suites comme « abc » ou « 6543 » se devinent facilement."
    ),
    "Avoid sequences.": "Évitez les suites de lettres ou de chiffres.",
    "Recent years are easy to guess.": "Les années récentes se devinent facilement.",
    "Avoid recent years.": "Évitez les années récentes.",
    "Avoid years that are associated with you.": "Évitez les années qui vous concernent.",
    "Dates are often easy to guess.": "Les dates se devinent souvent facilement.",
    "Avoid dates and years that are associated with you.": (
        "Évitez les dates et les années qui vous concernent."
    ),
    "This is a top-10 common password.": "C'est l'un des 10 mots de passe les plus courants.",
    "This is a top-100 common password.": "C'est l'un des 100 mots de passe les plus courants.",
    "This is a very common password.": "C'est un mot de passe très courant.",
    "This is similar to a commonly used password.": (
        "Il ressemble à un mot de passe très utilisé."
    ),
    "A word by itself is easy to guess.": "Un mot seul se devine facilement.",
    "Names and surnames by themselves are easy to guess.": (
        "Les noms et prénoms seuls se devinent facilement."
    ),
    "Common names and surnames are easy to guess.": (
        "Les noms et prénoms courants se devinent facilement."
    ),
    "Capitalization doesn't help very much.": "Une majuscule au début n'aide pas beaucoup.",
    "All-uppercase is almost as easy to guess as all-lowercase.": (
        "Tout en majuscules se devine presque aussi facilement que tout en minuscules."
    ),
    "Reversed words aren't much harder to guess.": (
        "Un mot écrit à l'envers n'est guère plus dur à deviner."
    ),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": (
        "Les substitutions prévisibles comme « @ » pour « a » n'aident pas beaucoup."
    ),
}


@dataclass(frozen=True)
class StrengthEstimate:
    guesses_log10: float
    feedback: list[str]  # French, warning first

    @property
    def strong_enough(self) -> bool:
        return self.guesses_log10 >= MIN_GUESSES_LOG10


def estimate_strength(password: str, personal: Sequence[str] = ()) -> StrengthEstimate:
    """zxcvbn's guess estimate, with its feedback in French (`personal`: login, name...)."""
    inputs = [word for value in personal for word in re.split(r"[\s.\-_@]+", value) if word]
    result = zxcvbn(password[:_ESTIMATE_PREFIX], user_inputs=inputs)
    raw = result["feedback"]
    messages = [raw["warning"], *raw["suggestions"]] if raw["warning"] else raw["suggestions"]
    # An unknown message (a future zxcvbn) is left out rather than shown in English.
    french = [ZXCVBN_FRENCH[m] for m in messages if m in ZXCVBN_FRENCH]
    return StrengthEstimate(float(result["guesses_log10"]), french)


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


def password_errors(
    password: str, confirmation: str, login: str = "", personal: Sequence[str] = ()
) -> list[str]:
    """French messages for every rule the new password breaks (empty when acceptable).

    Strength is zxcvbn's estimate against MIN_GUESSES_LOG10, with its advice in French.
    """
    errors: list[str] = []
    length = len(password)
    if length < MIN_LENGTH:
        errors.append(
            f"Le mot de passe fait {length} caractère{'s' if length > 1 else ''} : "
            f"il en faut au moins {MIN_LENGTH}."
        )
    elif length > MAX_LENGTH:
        errors.append(
            f"Le mot de passe fait {length} caractères : {MAX_LENGTH} au plus sont acceptés."
        )
    check = check_password(password, login)
    if check.is_common:
        errors.append("Ce mot de passe fait partie des plus courants : choisissez-en un autre.")
    if check.contains_login:
        errors.append("Le mot de passe ne doit pas contenir votre identifiant.")
    if not errors:
        estimate = estimate_strength(password, [login, *personal])
        if not estimate.strong_enough:
            errors.append(
                "Ce mot de passe serait trop facile à deviner. "
                + (" ".join(estimate.feedback) or "Allongez-le ou rendez-le moins prévisible.")
            )
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
class LoginThrottlePolicy:
    """Failed logins answered at once, then progressive delays; a high bound per address.

    Only failures count. The delays apply to a (login, address) pair, whether the login
    exists or not, so they neither lock a family out from elsewhere nor tell which logins
    exist; the per-address bound is high because many parents share one mobile-network
    address.
    """

    free_failures: int = 5
    max_delay_seconds: int = 300
    address_max_failures: int = 300
    # A pair's failures are forgotten this long after its last one (or at a success).
    pair_window_seconds: int = 3600
    address_window_seconds: int = 900

    def delay_after(self, failures: int) -> int:
        """Seconds to wait after the last failure before the next attempt is checked."""
        if failures < self.free_failures:
            return 0
        return int(min(2 ** (failures - self.free_failures), self.max_delay_seconds))

    def wait_left(self, failures: int, last_failure_at: float, now: float) -> int:
        """Whole seconds still to wait (0: the attempt may be checked now)."""
        left = last_failure_at + self.delay_after(failures) - now
        return math.ceil(left) if left > 0 else 0


_BROWSERS = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
_SYSTEMS = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


def signature_moment(instant: datetime, tz_name: str) -> str:
    """ "mardi 1 décembre 2026 à 20:15", in the structure's time zone (rules signatures)."""
    local = instant.astimezone(ZoneInfo(tz_name))
    return f"{long_date(local.date())} à {local:%H:%M}"


def describe_device(user_agent: str) -> str:
    """ "Firefox sur Windows" from a User-Agent: enough to recognise one's own devices.

    A table of the common tokens rather than a parser library: the list needs a browser and
    a system name, nothing more, and an unknown agent reads "Appareil inconnu".
    """
    browser = next((name for token, name in _BROWSERS if token in user_agent), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} sur {system}"
    return browser or system or "Appareil inconnu"


# « Mot de passe oublié »: at most one e-mail per account every RESET_SPACING, and
# RESET_PER_DAY a day, whoever asks (the login and an address are enough to ask).
RESET_SPACING = timedelta(minutes=5)
RESET_PER_DAY = 5
RESET_DAY = timedelta(days=1)


def may_send_reset(recent: Sequence[datetime], now: datetime) -> bool:
    """Whether a new reset e-mail may go, given when the account's tokens of the last day
    were made."""
    if len(recent) >= RESET_PER_DAY:
        return False
    return all(now - made >= RESET_SPACING for made in recent)
