"""Tariff bands from the quotient familial (QF): a structure's bands by QF ceiling, and the
band of a family from its QF and the date until which its attestation is valid.

Without a QF, or past its validity, a family is in the band without a ceiling (the full
price, as town halls do until the CAF attestation comes). A staff override wins over both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

BAND_RE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
MAX_QF = 100_000


@dataclass(frozen=True)
class BandRule:
    band: str
    qf_max: int | None  # None: no ceiling (the last band)


def parse_bands(text: str) -> tuple[list[BandRule], list[str]]:
    """One band a line, « code ; plafond » (« A ; 600 »), the last one without a ceiling.

    Ceilings must rise; codes are unique. Returns the bands in order and French errors.
    """
    rules: list[BandRule] = []
    errors: list[str] = []
    for number, raw in enumerate(text.splitlines()[:50], start=1):
        line = raw.strip()
        if not line:
            continue
        code, _, ceiling = (part.strip() for part in line.replace(",", ";").partition(";"))
        if not BAND_RE.match(code):
            errors.append(f"Ligne {number} : « {code} » n'est pas un code de tranche (A, B, QF1…).")
            continue
        if code in {r.band for r in rules}:
            errors.append(f"Ligne {number} : la tranche {code} est déjà définie.")
            continue
        qf_max = None
        if ceiling:
            if not ceiling.isdigit() or int(ceiling) > MAX_QF:
                errors.append(
                    f"Ligne {number} : le plafond « {ceiling} » doit être un nombre entier."
                )
                continue
            qf_max = int(ceiling)
        rules.append(BandRule(code, qf_max))
    if not rules:
        return [], errors
    ceilings = [r.qf_max for r in rules]
    if any(c is None for c in ceilings[:-1]) or ceilings[-1] is not None:
        errors.append("Seule la dernière tranche est sans plafond, et elle est obligatoire.")
    elif any(b <= a for a, b in pairwise(c for c in ceilings if c is not None)):
        errors.append("Les plafonds doivent aller en croissant.")
    return rules, errors


def format_bands(bands: Sequence[BandRule]) -> str:
    return "\n".join(f"{b.band} ; {b.qf_max}" if b.qf_max is not None else b.band for b in bands)


def qf_valid(qf: int | None, valid_until: date | None, today: date) -> bool:
    return qf is not None and (valid_until is None or today <= valid_until)


def band_for(
    bands: Sequence[BandRule], qf: int | None, valid_until: date | None, today: date
) -> str | None:
    """The band of a QF on ``today``; None when the structure defines no bands."""
    if not bands:
        return None
    if qf_valid(qf, valid_until, today):
        assert qf is not None
        for rule in bands:
            if rule.qf_max is not None and qf <= rule.qf_max:
                return rule.band
    return bands[-1].band
