"""Pure rules of the transmission: dates, wording, grouping, when a night is due, export."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from portal.domain.transmission import rules
from portal.domain.transmission.rules import Attendance, ReportMovement

PARIS = "Europe/Paris"


def test_short_dates_are_the_seed_ones() -> None:
    assert rules.short_date(date(2023, 5, 15)) == "lun. 15/05"
    assert rules.short_date(date(2026, 12, 9)) == "mer. 09/12"
    assert rules.short_date(date(2026, 12, 13)) == "dim. 13/12"
    days = [date(2023, 5, 16), date(2023, 5, 15), date(2023, 5, 16)]
    assert rules.short_dates(days) == "lun. 15/05, mar. 16/05"


@pytest.mark.parametrize(
    ("outcome", "one", "many"),
    [
        ("accepted", "1 réservation a été acceptée", "14 réservations ont été acceptées"),
        (
            "pending",
            "1 réservation est en attente de traitement par nos services",
            "13 réservations sont en attente de traitement par nos services",
        ),
        (
            "waitlisted",
            "1 réservation a été mise en liste d'attente",
            "17 réservations ont été mises en liste d'attente",
        ),
        ("cancelled", "1 réservation a été annulée", "2 réservations ont été annulées"),
        ("refused", "1 réservation a été refusée", "6 réservations ont été refusées"),
    ],
)
def test_outcome_lines_agree_in_number(outcome: str, one: str, many: str) -> None:
    assert rules.outcome_line(outcome, 1) == one
    count = int(many.split()[0])
    assert rules.outcome_line(outcome, count) == many


def test_request_lines_agree_in_number() -> None:
    assert rules.requests_line(45) == (
        "45 mouvements sur vos demandes de réservations ont été reçus, dont :"
    )
    assert rules.requests_line(1) == (
        "1 mouvement sur vos demandes de réservations a été reçu, dont :"
    )
    assert rules.new_requests_line(44) == "44 nouvelles demandes de réservation"
    assert rules.new_requests_line(1) == "1 nouvelle demande de réservation"
    assert rules.cancellations_line(1) == "1 demande d'annulation"
    assert rules.cancellations_line(3) == "3 demandes d'annulation"


def _m(
    mid: int, rid: int, kind: str, outcome: str, person: str, activity: str, pos: int
) -> ReportMovement:
    return ReportMovement(
        mid, rid, kind, outcome, person, "DUPONT", pos, activity, pos, date(2023, 5, 15)
    )


def test_grouping_by_activity_order_then_person() -> None:
    report = rules.build_family_report(
        [
            _m(1, 1, "book", "accepted", "Zoé", "B activité", 2),
            _m(2, 2, "book", "accepted", "Paolo", "Z activité", 1),
            _m(3, 3, "book", "accepted", "Amalia", "B activité", 2),
        ]
    )
    [section] = report.sections
    assert [g.activity for g in section.activities] == ["Z activité", "B activité"]
    assert [p.person for p in section.activities[1].people] == ["DUPONT Amalia", "DUPONT Zoé"]
    assert report.last_movement_id == 3


def test_outcome_is_the_latest_of_each_reservation() -> None:
    report = rules.build_family_report(
        [
            _m(7, 1, "cancel", "cancelled", "Paolo", "A", 1),
            _m(3, 1, "book", "waitlisted", "Paolo", "A", 1),
            _m(5, 1, "promotion", "accepted", "Paolo", "A", 1),
        ]
    )
    assert report.outcome_lines == ("1 réservation a été annulée",)
    assert report.requests_line == rules.requests_line(2)


def test_nightly_time_falls_back_to_two_o_clock() -> None:
    assert rules.nightly_time("23:30") == time(23, 30)
    assert rules.nightly_time("") == time(2, 0)
    assert rules.nightly_time("25:00") == time(2, 0)
    assert rules.nightly_time(None) == time(2, 0)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Winter (UTC+1): 02:00 local is 01:00 UTC.
        (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), datetime(2026, 1, 15, 1, 0, tzinfo=UTC)),
        (datetime(2026, 1, 15, 0, 59, tzinfo=UTC), datetime(2026, 1, 14, 1, 0, tzinfo=UTC)),
        # Summer (UTC+2).
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), datetime(2026, 7, 1, 0, 0, tzinfo=UTC)),
        # Autumn change: 02:00 happens twice; the first one counts.
        (datetime(2026, 10, 25, 12, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, 0, tzinfo=UTC)),
        # Spring change: 02:00 does not exist; the night is due just after the gap.
        (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ],
)
def test_last_due_instant_in_local_time(now: datetime, expected: datetime) -> None:
    assert rules.last_due_instant(now, time(2, 0), PARIS) == expected


def test_a_night_is_due_until_it_ran() -> None:
    due = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)
    assert rules.is_due(datetime(2026, 1, 14, 1, 0, 3, tzinfo=UTC), due)
    assert rules.is_due(datetime(2026, 1, 12, 1, 0, tzinfo=UTC), due)  # missed nights
    assert not rules.is_due(datetime(2026, 1, 15, 1, 0, 3, tzinfo=UTC), due)
    assert not rules.is_due(None, due)  # never transmitted: decided by waiting movements


def test_export_rows_per_activity_and_day() -> None:
    def attendance(activity: str, pos: int, day: int, first: str, last: str) -> Attendance:
        return Attendance(
            activity, pos, date(2026, 12, day), first, last, f"{last} Parent", time(7, 30), None
        )

    rows = rules.export_rows(
        [
            attendance("Restauration Scolaire", 1, 10, "Paolo", "DUPONT"),
            attendance("Accueil Matin", 0, 10, "Léo", "MARTIN"),
            attendance("Restauration Scolaire", 1, 9, "Zoé", "ANDRE"),
            attendance("Restauration Scolaire", 1, 10, "Amalia", "DUPONT"),
        ]
    )
    assert rows == [
        ("Accueil Matin", "10/12/2026", "jeu.", "MARTIN Léo", "MARTIN Parent", "07:30", ""),
        ("Restauration Scolaire", "09/12/2026", "mer.", "ANDRE Zoé", "ANDRE Parent", "07:30", ""),
        (
            "Restauration Scolaire",
            "10/12/2026",
            "jeu.",
            "DUPONT Amalia",
            "DUPONT Parent",
            "07:30",
            "",
        ),
        (
            "Restauration Scolaire",
            "10/12/2026",
            "jeu.",
            "DUPONT Paolo",
            "DUPONT Parent",
            "07:30",
            "",
        ),
    ]
