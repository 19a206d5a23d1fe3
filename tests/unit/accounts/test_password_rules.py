from __future__ import annotations

import pytest

from portal.domain.accounts import rules
from portal.domain.accounts.credentials import initial_password


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaaaaaa", "123456789012345", "azertyuiopqsdfgh", "Aaaaaaaaaaa1!"]
)
def test_patterned_passwords_that_the_old_class_rules_accepted_are_refused(
    password: str,
) -> None:
    errors = rules.password_errors(password, password, "dupont")
    assert errors, password
    assert any("trop facile à deviner" in e or "plus courants" in e for e in errors)


def test_feedback_is_in_french() -> None:
    [message] = rules.password_errors("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa")
    assert "répétitions comme « aaa »" in message
    assert "Repeats" not in message
    # No advice from zxcvbn for this one: a French fallback, never an empty reason.
    [keyboard] = rules.password_errors("azertyuiopqsdfgh", "azertyuiopqsdfgh")
    assert keyboard.endswith("Allongez-le ou rendez-le moins prévisible.")


def test_every_zxcvbn_message_has_a_french_translation() -> None:
    from pathlib import Path

    import zxcvbn.feedback

    source = Path(zxcvbn.feedback.__file__).read_text()
    for english in rules.ZXCVBN_FRENCH:
        assert english.split(" ")[0] in source
    # Each message zxcvbn can produce on these inputs is translated (none left out).
    import zxcvbn as estimator

    for sample in ("Password", "qwertyuiop", "abcabcabc", "19901990", "Smith", "p@ssw0rd", "drow"):
        raw = estimator.zxcvbn(sample)["feedback"]
        for english in [raw["warning"], *raw["suggestions"]]:
            assert not english or english in rules.ZXCVBN_FRENCH, english


@pytest.mark.parametrize("length", [12, 40, 72, 100, 128])
def test_strong_passwords_of_12_to_128_characters_are_accepted(length: int) -> None:
    base = "Kq7m-Xp3r-Ze9t#Vb2w-Hn6y-Jd4s+Lf8g-Wc5x"
    password = (base * 4)[:length]
    assert rules.password_errors(password, password) == [], length


def test_over_128_characters_is_refused_when_set() -> None:
    password = "Kq7m-Xp3r-Ze9t#Vb2w-Hn6y" * 6
    assert len(password) == 144
    [message] = rules.password_errors(password, password)
    assert "128 au plus" in message


def test_login_and_name_count_as_guessable() -> None:
    assert any("identifiant" in e for e in rules.password_errors("dupontdupont!", "x", "dupont"))
    weak = rules.estimate_strength("Jean-Paul-Dupont", ["DUPONT Jean-Paul"])
    assert not weak.strong_enough


def test_initial_passwords_are_strong_enough() -> None:
    for _ in range(20):
        password = initial_password()
        assert rules.password_errors(password, password) == []
