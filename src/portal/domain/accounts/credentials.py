"""Initial credentials of an imported or created family: its login and first password."""

from __future__ import annotations

import re
import secrets
import unicodedata

from portal.domain.accounts import rules as account_rules


def login_base(family_name: str) -> str:
    """ "DUPONT Jean-Paul" -> "dupont.jp": ASCII, lower case, at least 3 characters."""
    plain = unicodedata.normalize("NFKD", family_name).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.split(r"[^a-z0-9]+", plain) if w]
    if not words:
        return "famille"
    base = words[0]
    initials = "".join(w[0] for w in words[1:] for w in re.split(r"-", w) if w)[:3]
    base = f"{base}.{initials}" if initials else base
    return base if len(base) >= 3 else f"{base}-famille"


def unique_login(base: str, taken: set[str]) -> str:
    """``base``, or ``base2``, ``base3``... the first not in ``taken`` (compared lowercased)."""
    lowered = {t.lower() for t in taken}
    if base.lower() not in lowered:
        return base
    n = 2
    while f"{base}{n}".lower() in lowered:
        n += 1
    return f"{base}{n}"


_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_LOWER = "abcdefghijkmnopqrstuvwxyz"
_DIGITS = "23456789"
_ALPHABET = _UPPER + _LOWER + _DIGITS


def initial_password() -> str:
    """Like "Kq7m-Xp3r-Ze9t": 14 characters, four classes, no look-alike letters."""
    while True:
        groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3)]
        password = "-".join(groups)
        check = account_rules.check_password(password)
        if check.acceptable and check.has_upper and check.has_lower and check.has_digit:
            return password
