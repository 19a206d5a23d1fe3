"""Period rules: criteria, spread counts, settings checks and the parents' wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.domain.booking.opening import (
    OpeningPeriod,
    PeriodMode,
    Phase,
    local_label,
    opening_note,
    waiting_label,
)
from portal.domain.criteria_values import values_of_text
from portal.domain.family_file.rules import in_force
from portal.domain.periods import rules
from portal.domain.periods.rules import Criterion

PARIS = ZoneInfo("Europe/Paris")
OPENS = datetime(2027, 1, 11, 7, 30, tzinfo=UTC)  # lundi 11/01 à 08:30, Paris
ENDS = datetime(2027, 1, 13, 7, 30, tzinfo=UTC)


def period(mode: PeriodMode, allocated: bool = False) -> OpeningPeriod:
    return OpeningPeriod(
        1, "Vacances d'hiver 2027", mode, OPENS, ENDS, date(2027, 2, 15), date(2027, 2, 26),
        frozenset({3}), allocated,
    )  # fmt: skip


def test_phases() -> None:
    lottery = period(PeriodMode.LOTTERY)
    assert lottery.phase(datetime(2027, 1, 11, 7, 29, tzinfo=UTC)) is Phase.BEFORE_OPENING
    assert lottery.phase(OPENS) is Phase.WINDOW
    assert lottery.phase(ENDS) is Phase.ALLOCATING
    assert period(PeriodMode.LOTTERY, allocated=True).phase(ENDS) is Phase.OPEN
    assert period(PeriodMode.FIRST_COME).phase(OPENS) is Phase.OPEN
    assert lottery.covers(3, date(2027, 2, 15)) and not lottery.covers(4, date(2027, 2, 15))


def test_french_wording() -> None:
    assert local_label(OPENS, PARIS) == "lundi 11/01 à 08:30"
    note = opening_note(period(PeriodMode.LOTTERY), OPENS.replace(hour=6), PARIS)
    assert note == "ouverture le lundi 11/01 à 08:30"
    assert waiting_label(period(PeriodMode.LOTTERY), PARIS) == (
        "en attente du tirage au sort du 13/01"
    )


def test_criteria_parsing_and_scores() -> None:
    assert rules.parse_criteria("spread, resident,bogus,spread") == (
        Criterion.SPREAD,
        Criterion.RESIDENT,
    )
    assert rules.scores([Criterion.RESIDENT, Criterion.SPREAD], [1, 3]) == (1, -3)
    text = rules.values_text([Criterion.RESIDENT, Criterion.SPREAD], [1, 3])
    assert values_of_text(text) == {"resident": 1, "spread": 3}
    with pytest.raises(rules.PeriodError):
        rules.parse_postcodes("33000, =HYPERLINK")


def test_a_file_fact_counts_while_its_proof_runs_on_the_requested_day() -> None:
    day = date(2027, 2, 17)
    assert in_force(True, None, day)
    assert in_force(True, day, day)
    assert not in_force(True, date(2027, 2, 16), day)
    assert not in_force(False, None, day)
    facts = rules.RequestFacts(
        resident=False, siblings_accepted=0, pai=False, days_before=2,
        parents_working=True, disability=True,
    )  # fmt: skip
    assert [rules.criterion_value(c, facts) for c in Criterion] == [0, 1, 0, 1, 0, 2]
    # Every criterion explains itself to parents in the published rules.
    assert all(c.label and c.explanation for c in Criterion)


def test_spread_counts_in_date_order() -> None:
    rows = [
        (10, 1, date(2027, 2, 16), 5, 101),
        (11, 1, date(2027, 2, 15), 5, 100),
        (12, 2, date(2027, 2, 15), 6, 100),
    ]
    assert rules.spread_counts(rows, {2: 2}) == {11: 0, 10: 1, 12: 2}


def test_settings_checks() -> None:
    good = rules.PeriodSettings(
        "Hiver", (3,), date(2027, 2, 15), date(2027, 2, 26), OPENS, PeriodMode.PRIORITY, ENDS,
        (Criterion.RESIDENT,), ("33000",),
    )  # fmt: skip
    assert rules.check_settings(good) == []
    bad = rules.PeriodSettings(
        " ", (), date(2027, 2, 26), date(2027, 2, 15), OPENS, PeriodMode.PRIORITY, OPENS,
        (Criterion.RESIDENT,), (),
    )  # fmt: skip
    assert len(rules.check_settings(bad)) == 5


def test_parent_rules_say_no_advantage_and_how_to_check() -> None:
    paragraphs = rules.parent_rules(
            name="Hiver", mode=PeriodMode.PRIORITY, opens_at=OPENS, window_ends_at=ENDS,
            first_day=date(2027, 2, 15), last_day=date(2027, 2, 26), activities=["ALSH"],
            criteria=(Criterion.RESIDENT, Criterion.SPREAD), postcodes=("33000",), tz=PARIS,
            now=OPENS - timedelta(days=3),
    )  # fmt: skip
    text = " ".join(str(p) for p in paragraphs)
    assert "aucun avantage" in text
    assert "SHA-256" in text
    assert "1. Famille domiciliée dans la commune" in text and "33000" in text
    # The ranked criteria are an ordered list after the sentence that introduces them.
    [ranking] = [p for p in paragraphs if p.items]
    assert ranking.text.endswith("(le suivant départage les égalités du précédent) :")
    assert [i.split(" : ")[0] for i in ranking.items] == [
        "Famille domiciliée dans la commune",
        "Répartir les places entre les familles",
    ]
    assert "lundi 11/01 à 08:30" in text


@pytest.mark.parametrize(
    ("now", "mode", "expected"),
    [
        (OPENS - timedelta(minutes=1), PeriodMode.LOTTERY,
         "Vous pouvez préparer votre panier dès maintenant. Les réservations ouvrent le "
         "lundi 11/01 à 08:30 ; rien n'est décidé avant."),
        (OPENS, PeriodMode.FIRST_COME,
         "Les réservations sont ouvertes depuis le lundi 11/01 à 08:30."),
        (OPENS, PeriodMode.LOTTERY,
         "Les demandes sont ouvertes depuis le lundi 11/01 à 08:30, jusqu'au mercredi 13/01 "
         "à 08:30."),
        (ENDS, PeriodMode.LOTTERY,
         "Les demandes étaient ouvertes du lundi 11/01 à 08:30 au mercredi 13/01 à 08:30 ; "
         "cette période de demandes est terminée."),
    ],
)  # fmt: skip
def test_the_opening_is_told_as_of_the_reading(
    now: datetime, mode: PeriodMode, expected: str
) -> None:
    """A parent reading the rules during the window or after the draw is not invited to
    prepare a basket for an opening that has passed."""
    paragraphs = rules.parent_rules(
        name="Hiver", mode=mode, opens_at=OPENS,
        window_ends_at=None if mode is PeriodMode.FIRST_COME else ENDS,
        first_day=date(2027, 2, 15), last_day=date(2027, 2, 26), activities=["ALSH"],
        criteria=(), postcodes=(), tz=PARIS, now=now,
    )  # fmt: skip
    assert paragraphs[1].text == expected


def test_retention_drops_only_the_named_values() -> None:
    from portal.domain.criteria_values import without

    text = "resident=1;pai=1;working=0;disability=1;spread=-2"
    assert without(text, ("pai", "disability")) == "resident=1;working=0;spread=-2"
    assert without(text, ()) == text
    assert without("", ("pai",)) == ""


def test_a_one_day_period_says_its_day() -> None:
    paragraphs = rules.parent_rules(
        name="Sortie", mode=PeriodMode.FIRST_COME, opens_at=OPENS, window_ends_at=None,
        first_day=date(2027, 2, 24), last_day=date(2027, 2, 24), activities=["ALSH"],
        criteria=(), postcodes=(), tz=PARIS, now=OPENS,
    )  # fmt: skip
    assert paragraphs[0].text == (
        "« Sortie » couvre la journée du 24/02/2027 des activités : ALSH."
    )
