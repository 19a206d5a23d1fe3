"""One list of the child's health fields, and the staff view without health access blanks
every one of them (a field added to the file and forgotten there would leak)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from types import SimpleNamespace
from typing import cast

from portal.domain.family_file.rules import (
    HEALTH_FIELDS,
    ChildFacts,
    Doc,
    DocType,
    DocumentStatus,
    FamilyFacts,
    FileRules,
    Slot,
    missing_items,
)
from portal.domain.family_file.service import ChildView, FileState, FileView
from portal.domain.file_review.health_access import without_health


def test_without_health_blanks_every_health_field() -> None:
    child = ChildView(
        1, "Hugo", "DURAND", None, allergies="Arachide", diet="sans_porc", pai=True,
        pai_end=date(2027, 7, 4), disability=True, disability_end=date(2028, 6, 30),
        doctor="Dr Lucas", doctor_phone="05 56 64 00 00", vaccinations_ok=True,
    )  # fmt: skip
    defaults = {f.name: f.default for f in fields(ChildView)}
    assert all(getattr(child, name) != defaults[name] for name in HEALTH_FIELDS)
    pai = DocType(1, "pai", "PAI", per_child=True, required=True, health=True)
    insurance = DocType(2, "assurance", "Assurance", per_child=True, required=True)
    doc = Doc(7, 1, 1, "pending", None)
    slots = [
        Slot(doc_type, 1, "Hugo", DocumentStatus.PENDING, doc, (doc,))
        for doc_type in (pai, insurance)
    ]
    state = FileState(False, tuple(missing_items(FileRules((), (pai, insurance)), facts(), TODAY)))
    assert [m.text for m in state.missing] == [
        "PAI (Hugo) : à fournir", "Assurance (Hugo) : à fournir",
    ]  # fmt: skip
    view = SimpleNamespace(children=[child], slots=slots, state=state)
    without_health(cast(FileView, view))
    assert {name: getattr(child, name) for name in HEALTH_FIELDS} == {
        name: defaults[name] for name in HEALTH_FIELDS
    }
    # A slot of a health type names neither its type nor its child, and shows no file.
    assert [(s.title, s.doc, s.history) for s in view.slots] == [
        ("Document de santé", None, ()), ("Assurance (Hugo)", doc, (doc,)),
    ]  # fmt: skip
    # A type asked only of a child with a disability tells it, whatever its own flag.
    mdph = DocType(3, "mdph", "MDPH", per_child=True, required=True, required_when="disability")
    assert Slot(mdph, 1, "Hugo", DocumentStatus.PENDING, doc).sealed().title == (
        "Document de santé"
    )
    assert [m.text for m in view.state.missing] == [
        "Document de santé : à fournir", "Assurance (Hugo) : à fournir",
    ]  # fmt: skip


TODAY = date(2026, 12, 7)


def facts() -> FamilyFacts:
    return FamilyFacts(address="1 rue", phones=("0600000000",), children=(ChildFacts(1, "Hugo"),))
