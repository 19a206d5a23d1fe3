"""The family's report says which requests the structure made on its behalf."""

from __future__ import annotations

from datetime import date

from portal.domain.transmission import rules
from portal.domain.transmission.rules import ReportMovement


def _m(mid: int, kind: str, outcome: str, actor: str) -> ReportMovement:
    return ReportMovement(
        mid, mid, kind, outcome, "Paolo", "DUPONT", 1, "Restauration", 1,
        date(2026, 12, 7 + mid), actor,
    )  # fmt: skip


def test_the_structure_requests_are_counted_and_marked() -> None:
    report = rules.build_family_report(
        [
            _m(1, "book", "accepted", "parent"),
            _m(2, "book", "accepted", "staff"),
            _m(3, "cancel", "cancelled", "staff"),
        ]
    )
    assert report.request_details == (
        "2 nouvelles demandes de réservation",
        "1 demande d'annulation",
        "2 demandes faites pour vous par la structure",
    )
    accepted = next(s for s in report.sections if s.outcome == "accepted")
    assert [p.person for p in accepted.activities[0].people] == [
        "DUPONT Paolo",
        "DUPONT Paolo (par la structure)",
    ]


def test_a_parent_only_report_is_unchanged() -> None:
    report = rules.build_family_report([_m(1, "book", "accepted", "parent")])
    assert report.request_details == ("1 nouvelle demande de réservation",)
    assert "structure" not in report.sections[0].activities[0].people[0].person
