"""IBAN, BIC and creditor identifier checks, amounts and delays of the direct debit."""

from __future__ import annotations

from datetime import date

import pytest

from portal.domain.sepa import rules
from portal.domain.sepa.rules import Basis, SepaError

VALID_FR = "FR76 3000 6000 0112 3456 7890 189"


def test_valid_iban_gives_compact_form_and_bic() -> None:
    account = rules.check_account(VALID_FR)
    assert account.iban == "FR7630006000011234567890189"
    assert account.bic == "AGRIFRPPXXX"  # known to schwifty's bank registry
    assert account.masked_iban == "FR76 **** **** **** **** ***0 189"
    assert rules.check_account("DE89370400440532013000", "COBADEFFXXX").bic == "COBADEFFXXX"


@pytest.mark.parametrize(
    ("iban", "bic", "message"),
    [
        ("", "", "Indiquez l'IBAN"),
        ("FR76 3000 6000 0112 3456 7890 188", "", "n'est pas un IBAN valide"),
        ("FR76 3000 6000", "", "n'est pas un IBAN valide"),
        ("XX00 1234", "", "n'est pas un IBAN valide"),
        ("BR1800360305000010009795493C1", "", "zone SEPA"),
        (VALID_FR, "AGRIXXPP", "n'est pas un BIC valide"),
        (VALID_FR, "AB", "n'est pas un BIC valide"),
    ],
)
def test_invalid_bank_details_are_refused_in_french(iban: str, bic: str, message: str) -> None:
    with pytest.raises(SepaError, match=message):
        rules.check_account(iban, bic)


def test_creditor_identifier_key() -> None:
    assert rules.check_creditor_id("de98 zzz 09999999999") == "DE98ZZZ09999999999"
    assert rules.check_creditor_id("FR72ZZZ123456") == "FR72ZZZ123456"
    with pytest.raises(SepaError, match="clé"):
        rules.check_creditor_id("FR73ZZZ123456")
    with pytest.raises(SepaError, match="identifiant créancier"):
        rules.check_creditor_id("123")


def test_references_and_delays() -> None:
    reference = rules.mandate_reference(3, 12, 1)
    assert reference == "PF3-000012-01" and len(reference) <= 35
    assert rules.end_to_end_id(reference, "2026-12", 45) == "PF3-000012-01-202612-45"
    collection = rules.collection_date(date(2026, 12, 1), 20)
    assert collection == date(2026, 12, 20)
    assert rules.collection_date(date(2027, 2, 1), 31) == date(2027, 2, 28)
    assert rules.can_notify(date(2026, 12, 6), collection, 14)
    assert not rules.can_notify(date(2026, 12, 7), collection, 14)
    assert rules.can_notify(date(2026, 12, 18), collection, 2)  # a mandate with 2 days


def test_amount_due_by_basis() -> None:
    assert rules.amount_due(Basis.DEBT, -8240, 5000) == 8240
    assert rules.amount_due(Basis.DEBT, 1200, 5000) == 0
    assert rules.amount_due(Basis.MONTH, 1200, 5000) == 5000
    assert rules.amount_due(Basis.MONTH, -100, -300) == 0
    assert rules.sequence_type(False) == "FRST" and rules.sequence_type(True) == "RCUR"


def test_holder() -> None:
    assert rules.check_holder("  DUPONT   Jean-Paul ") == "DUPONT Jean-Paul"
    with pytest.raises(SepaError):
        rules.check_holder(" ")
