"""The parent's notification choices, as pure rules."""

from __future__ import annotations

import pytest

from portal.domain.channels import rules
from portal.domain.channels.rules import Channel, Choice, Kind


def test_defaults_are_e_mail_only_for_every_kind() -> None:
    choices = rules.complete({})
    assert [c.kind for c in choices] == list(Kind)
    assert all(c.email and not c.push for c in choices)


def test_saved_choices_replace_the_defaults_of_their_kind_only() -> None:
    saved = {Kind.MESSAGE: Choice(Kind.MESSAGE, email=False, push=True)}
    by_kind = {c.kind: c for c in rules.complete(saved)}
    assert by_kind[Kind.MESSAGE].wants(Channel.PUSH)
    assert not by_kind[Kind.MESSAGE].wants(Channel.EMAIL)
    assert by_kind[Kind.LOW_BALANCE].wants(Channel.EMAIL)


def test_form_boxes_missing_mean_off() -> None:
    form = {
        rules.field_name(Kind.BOOKING_REPORT, Channel.PUSH): "1",
        rules.field_name(Kind.LOW_BALANCE, Channel.EMAIL): "1",
    }
    by_kind = {c.kind: c for c in rules.choices_from_form(form)}
    assert by_kind[Kind.BOOKING_REPORT] == Choice(Kind.BOOKING_REPORT, email=False, push=True)
    assert by_kind[Kind.LOW_BALANCE] == Choice(Kind.LOW_BALANCE, email=True, push=False)
    assert by_kind[Kind.MESSAGE] == Choice(Kind.MESSAGE, email=False, push=False)


def test_every_kind_has_a_french_label() -> None:
    assert set(rules.KIND_LABELS) == set(Kind)


@pytest.mark.parametrize("raw", ["", "abc", "13", "-24", "99999", None, "48.0"])
def test_lead_time_must_be_one_offered(raw: str | None) -> None:
    with pytest.raises(rules.ChoiceError, match="délai"):
        rules.parse_lead_hours(raw)


def test_lead_times_read_and_described() -> None:
    assert rules.parse_lead_hours(" 72 ") == 72
    assert rules.describe_lead(24) == "1 jour avant"
    assert rules.describe_lead(48) == "2 jours avant"
    assert rules.describe_lead(12) == "12 heures avant"
