"""One list of the child's health fields, and the staff view without health access blanks
every one of them (a field added to the file and forgotten there would leak)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from types import SimpleNamespace
from typing import cast

from portal.domain.family_file.rules import HEALTH_FIELDS
from portal.domain.family_file.service import ChildView, FileView
from portal.domain.file_review.health_access import without_health


def test_without_health_blanks_every_health_field() -> None:
    child = ChildView(
        1, "Hugo", "DURAND", None, allergies="Arachide", diet="sans_porc", pai=True,
        pai_end=date(2027, 7, 4), disability=True, disability_end=date(2028, 6, 30),
        doctor="Dr Lucas", doctor_phone="05 56 64 00 00", vaccinations_ok=True,
    )  # fmt: skip
    defaults = {f.name: f.default for f in fields(ChildView)}
    assert all(getattr(child, name) != defaults[name] for name in HEALTH_FIELDS)
    without_health(cast(FileView, SimpleNamespace(children=[child])))
    assert {name: getattr(child, name) for name in HEALTH_FIELDS} == {
        name: defaults[name] for name in HEALTH_FIELDS
    }
