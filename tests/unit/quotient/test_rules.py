"""Bands by QF ceiling, and a family's band from its QF and the attestation's validity."""

from __future__ import annotations

from datetime import date

from portal.domain.quotient import rules

TODAY = date(2026, 12, 7)
BANDS = [rules.BandRule("A", 600), rules.BandRule("B", 900), rules.BandRule("C", None)]


def test_parse_and_format() -> None:
    parsed, errors = rules.parse_bands("A ; 600\nB;900\n\nC")
    assert (parsed, errors) == (BANDS, [])
    assert rules.format_bands(parsed) == "A ; 600\nB ; 900\nC"
    assert rules.parse_bands("A ; 900\nB ; 600\nC")[1] == [
        "Les plafonds doivent aller en croissant."
    ]
    assert rules.parse_bands("A ; 600\nB ; 900")[1]  # no band without a ceiling
    assert "Ligne 2 : la tranche A est déjà définie." in rules.parse_bands("A ; 600\nA\n")[1]
    assert "plafond" in rules.parse_bands("A ; six cents\nB")[1][0]
    assert "code de tranche" in rules.parse_bands("=cmd ; 1\nB")[1][0]
    assert rules.parse_bands("") == ([], [])


def test_band_of_a_qf_and_its_validity() -> None:
    assert rules.band_for(BANDS, 600, None, TODAY) == "A"
    assert rules.band_for(BANDS, 601, date(2026, 12, 31), TODAY) == "B"
    assert rules.band_for(BANDS, 5000, None, TODAY) == "C"
    assert rules.band_for(BANDS, 400, date(2026, 12, 6), TODAY) == "C"  # attestation expired
    assert rules.band_for(BANDS, None, None, TODAY) == "C"  # no QF: full price
    assert rules.band_for([], 400, None, TODAY) is None
