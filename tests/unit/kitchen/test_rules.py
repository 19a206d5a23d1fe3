"""The kitchen sheet's counts and the moment it is e-mailed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from portal.domain.family_file.rules import in_force
from portal.domain.kitchen import rules

DAY = date(2026, 12, 8)


def diner(child: str, activity: str = "Restauration", **extra: object) -> rules.Diner:
    values: dict[str, object] = {
        "activity_id": 1 if activity == "Restauration" else 2,
        "activity_name": activity,
        "activity_position": 1 if activity == "Restauration" else 2,
        "child": child,
        "school": "Jules Ferry",
        "diet": "",
        "allergies": "",
        "pai": False,
    }
    values.update(extra)
    return rules.Diner(**values)  # type: ignore[arg-type]


def test_counts_per_activity_school_and_diet() -> None:
    sheet = rules.build_sheet(
        DAY,
        [
            diner("DUPONT Paolo", diet="sans_porc", allergies="arachide", pai=True),
            diner("DUPONT Amalia", school=""),
            diner("MARTIN Léa", diet="vegetarien"),
            diner("MARTIN Tom", activity="Accueil du soir"),
        ],
    )
    canteen, evening = sheet.activities
    assert (canteen.name, canteen.total, evening.total, sheet.total) == ("Restauration", 3, 1, 4)
    assert canteen.by_school == (("Jules Ferry", 2), ("École non renseignée", 1))
    assert canteen.by_diet == (("Repas standard", 1), ("Sans porc", 1), ("Végétarien", 1))
    assert (canteen.allergies, canteen.pai) == (1, 1)
    assert [s.child for s in canteen.specials] == ["DUPONT Paolo", "MARTIN Léa"]
    text = rules.plain_text(sheet, "Mairie")
    assert "Restauration : 3" in text and "allergies : arachide, PAI" in text


def test_a_pai_counts_until_its_end_and_the_sheet_waits_for_every_deadline() -> None:
    assert in_force(True, None, DAY)
    assert in_force(True, DAY, DAY)
    assert not in_force(True, date(2026, 12, 7), DAY)
    assert not in_force(False, None, DAY)
    early = datetime(2026, 12, 6, 9, tzinfo=UTC)
    late = datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert not rules.sheet_due(late, [early, datetime(2026, 12, 8, tzinfo=UTC)])
    assert rules.sheet_due(late, [early, late])
    assert not rules.sheet_due(late, [])  # no activity that day: nothing to send
    assert rules.dedupe_key(3, DAY) == "kitchen:3:2026-12-08"


def test_a_declared_absence_is_not_cooked_for_but_said() -> None:
    sheet = rules.build_sheet(
        DAY,
        [
            diner("DUPONT Paolo", diet="sans_porc", allergies="arachide", absent=True),
            diner("DUPONT Amalia"),
            diner("MARTIN Léa", absent=True),
        ],
    )
    [canteen] = sheet.activities
    assert (canteen.total, canteen.absences, sheet.absences) == (1, 2, 2)
    assert canteen.by_diet == (("Repas standard", 1),)
    assert canteen.allergies == 0 and canteen.specials == ()
    assert sheet.absences_text == "2 absences signalées (enfants non comptés)"
    assert "2 absences signalées" in rules.plain_text(sheet, "Mairie")
