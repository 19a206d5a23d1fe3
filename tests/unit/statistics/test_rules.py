"""What counts in the statistics: age groups, booked, attended, billed, hours."""

from __future__ import annotations

from datetime import date

from portal.domain.statistics import rules

DAY = date(2026, 12, 9)


def row(person: int, **extra: object) -> rules.Attendance:
    values: dict[str, object] = {
        "activity_id": 1, "activity_name": "Accueil du soir", "activity_position": 1,
        "day": DAY, "person_id": person, "family_id": 10 + person // 2,
        "birth_date": date(2018, 1, 1), "band": "A", "absent": False, "justified": False,
        "time_entry": True, "booked_minutes": 120, "seen_minutes": None, "quantity": 4,
        "unit_minutes": 30,
    }  # fmt: skip
    values.update(extra)
    return rules.Attendance(**values)  # type: ignore[arg-type]


def test_age_groups_on_the_day() -> None:
    assert rules.age_group(date(2020, 12, 10), DAY) is rules.AgeGroup.UNDER_6  # 5 the day before 6
    assert rules.age_group(date(2020, 12, 9), DAY) is rules.AgeGroup.SIX_TO_11
    assert rules.age_group(date(2014, 12, 9), DAY) is rules.AgeGroup.TWELVE_PLUS
    assert rules.age_group(None, DAY) is rules.AgeGroup.UNKNOWN


def test_booked_attended_billed_and_hours() -> None:
    [line] = rules.month_lines(
        [
            row(1, seen_minutes=95),  # present, times seen
            row(2),  # present, booked times
            row(3, absent=True),  # absent: billed, no hours done
            row(4, absent=True, justified=True, band="B"),  # justified: not billed
            row(1, day=date(2026, 12, 10)),  # the same child another day
        ]
    )
    total = line.total
    assert (total.child_count, total.family_count) == (4, 3)
    assert (total.booked, total.attended, total.billed) == (5, 3, 4)
    assert total.minutes_done == 95 + 120 + 120
    assert total.minutes_billed == 4 * 4 * 30
    assert [(g, f.booked) for g, f in line.by_age] == [(rules.AgeGroup.SIX_TO_11, 5)]
    assert [(b, f.billed) for b, f in line.by_band] == [("A", 4), ("B", 0)]
    assert rules.hours_text(335) == "5 h 35"


def test_a_chart_scales_to_its_longest_bar() -> None:
    chart = rules.BarChart.of("T", [rules.Bar("a", 10, "10"), rules.Bar("b", 5, "5")])
    assert [chart.width_of(b) for b in chart.bars] == [300.0, 150.0]
    assert rules.BarChart.of("vide", []).height == rules.BarChart.ROW
